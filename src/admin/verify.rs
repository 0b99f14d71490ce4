//! `synapse admin audit verify`: walks every audit chain (`store::audit_chain`) a page of links
//! at a time, recomputing each link's hash from its row, and reports what no longer matches:
//! a row changed (its hash differs), a row deleted (its link remains), links removed (a gap in
//! the positions), a row slipped in (a row with no link), and, given the heads the server
//! logged (`--expect-head ID:HASH`), a cut tail (the chain ends before that head) or a chain
//! rewritten from scratch (the head's row carries another hash). Memory does not grow with the
//! trail: one page of links is held at a time, and at most `SHOWN` problems.

use uuid::Uuid;

use super::Failure;
use crate::console::Exit;
use crate::model::time::format_timestamp;
use crate::store::Store;
use crate::store::audit_chain::{ChainHead, GENESIS, link_hash};

/// Links read per page.
pub const PAGE_LINKS: u32 = 1000;
/// Problems listed; past these they are counted only.
const SHOWN: usize = 100;

/// A head the server logged ("audit chain head"): a row id and the hash of its link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedHead {
    pub event_id: Uuid,
    pub hash: String,
}

impl ExpectedHead {
    /// `ID:HASH` as the server logs it.
    pub fn parse(text: &str) -> Option<ExpectedHead> {
        let (id, hash) = text.trim().split_once(':')?;
        let hash = hash.to_ascii_lowercase();
        let hex = hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit());
        hex.then_some(ExpectedHead {
            event_id: Uuid::parse_str(id).ok()?,
            hash,
        })
    }
}

/// One thing found wrong, in the words of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The row's columns (or the link before it) no longer give its link's hash.
    Changed {
        chain: &'static str,
        seq: i64,
        id: Uuid,
    },
    /// The link is there, the row it names is not.
    Deleted {
        chain: &'static str,
        seq: i64,
        id: Uuid,
    },
    /// Links `from..=to` are missing (their rows with them, or not), before row `next`.
    Removed {
        chain: &'static str,
        from: i64,
        to: i64,
        next: Uuid,
    },
    /// A row with no link: stored around the chain.
    Inserted {
        chain: &'static str,
        id: Uuid,
        at: String,
    },
    /// A logged head's row is in a chain with another hash: the chain was rebuilt.
    Rewritten {
        chain: &'static str,
        id: Uuid,
        logged: String,
        found: String,
    },
    /// A logged head is in no chain: the chains end before it.
    CutTail { head: ExpectedHead, ends: String },
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Changed { chain, seq, id } => write!(
                f,
                "{chain}: row {id} (position {seq}) was changed: its columns, or the link \
                 before it, no longer give its link's hash"
            ),
            Problem::Deleted { chain, seq, id } => write!(
                f,
                "{chain}: row {id} (position {seq}) was deleted: its link remains, the row \
                 does not"
            ),
            Problem::Removed {
                chain,
                from,
                to,
                next,
            } => write!(
                f,
                "{chain}: rows at positions {from} to {to} were removed, with their links, \
                 just before row {next}"
            ),
            Problem::Inserted { chain, id, at } => write!(
                f,
                "{chain}: row {id} (at {at}) was inserted: it is not in the chain"
            ),
            Problem::Rewritten {
                chain,
                id,
                logged,
                found,
            } => write!(
                f,
                "{chain}: row {id} has the hash {found}, but the server logged it as the head \
                 with {logged}: the chain was rebuilt after it was logged"
            ),
            Problem::CutTail { head, ends } => write!(
                f,
                "the chain ends before the logged head {}:{} ({ends}): rows were removed from \
                 its end",
                head.event_id, head.hash
            ),
        }
    }
}

/// What a walk found: each chain's length and head, and the first problems.
#[derive(Debug, Default)]
pub struct Verdict {
    pub chains: Vec<(&'static str, u64, ChainHead)>,
    pub problems: Vec<Problem>,
    /// Problems found past the first `SHOWN`.
    pub unlisted: u64,
}

impl Verdict {
    fn found(&mut self, problem: Problem) {
        if self.problems.len() < SHOWN {
            self.problems.push(problem);
        } else {
            self.unlisted += 1;
        }
    }

    pub fn intact(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Walks every chain of `store`, checking `expected` heads on the way.
pub async fn verify(store: &dyn Store, expected: &[ExpectedHead]) -> Result<Verdict, Failure> {
    let mut verdict = Verdict::default();
    let mut seen = vec![false; expected.len()];
    for (index, chain) in store.audit_chain_names().into_iter().enumerate() {
        let mut previous = GENESIS.to_string();
        let mut next_seq = 1;
        let mut after = 0;
        let mut rows = 0u64;
        let mut head = ChainHead::genesis();
        loop {
            let page = store
                .audit_chain_links(index, after, PAGE_LINKS)
                .await
                .map_err(read_failure)?;
            for link in &page {
                // After a gap the link before is unknown: this link is taken as it stands.
                let gap = link.seq != next_seq;
                if gap {
                    verdict.found(Problem::Removed {
                        chain,
                        from: next_seq,
                        to: link.seq - 1,
                        next: link.event_id,
                    });
                }
                match &link.row {
                    None => verdict.found(Problem::Deleted {
                        chain,
                        seq: link.seq,
                        id: link.event_id,
                    }),
                    Some(row) if !gap && link_hash(&previous, link.seq, row) != link.hash => {
                        verdict.found(Problem::Changed {
                            chain,
                            seq: link.seq,
                            id: link.event_id,
                        })
                    }
                    Some(_) => rows += 1,
                }
                for (n, head) in expected.iter().enumerate() {
                    if head.event_id == link.event_id {
                        seen[n] = true;
                        if head.hash != link.hash {
                            verdict.found(Problem::Rewritten {
                                chain,
                                id: link.event_id,
                                logged: head.hash.clone(),
                                found: link.hash.clone(),
                            });
                        }
                    }
                }
                previous.clone_from(&link.hash);
                next_seq = link.seq + 1;
            }
            match page.last() {
                Some(last) => {
                    head = ChainHead {
                        seq: last.seq,
                        event_id: Some(last.event_id),
                        hash: last.hash.clone(),
                    };
                    after = last.seq;
                }
                None => break,
            }
            if (page.len() as u32) < PAGE_LINKS {
                break;
            }
        }
        let unchained = store
            .audit_unchained(index, SHOWN as u32)
            .await
            .map_err(read_failure)?;
        for row in unchained {
            verdict.found(Problem::Inserted {
                chain,
                id: row.id,
                at: format_timestamp(row.at),
            });
        }
        verdict.chains.push((chain, rows, head));
    }
    let ends = verdict
        .chains
        .iter()
        .map(|(chain, _, head)| match head.event_id {
            Some(id) => format!("{chain} ends at position {} with row {id}", head.seq),
            None => format!("{chain} is empty"),
        })
        .collect::<Vec<_>>()
        .join("; ");
    for (head, seen) in expected.iter().zip(seen) {
        if !seen {
            verdict.found(Problem::CutTail {
                head: head.clone(),
                ends: ends.clone(),
            });
        }
    }
    Ok(verdict)
}

fn read_failure(error: crate::store::StoreError) -> Failure {
    Failure {
        exit: Exit::Failed,
        message: format!("cannot read the audit chain: {error}"),
    }
}

/// Prints `verdict` (chains to stdout, problems to stdout, first first) and answers whether
/// the trail is intact.
pub fn report(verdict: &Verdict) -> Result<(), Failure> {
    for (chain, rows, head) in &verdict.chains {
        match head.event_id {
            Some(id) => println!(
                "Audit chain of the {chain}: {rows} rows, head {id}:{} (position {}).",
                head.hash, head.seq
            ),
            None => println!("Audit chain of the {chain}: empty."),
        }
    }
    if verdict.intact() {
        println!("The audit trail is intact.");
        return Ok(());
    }
    for (n, problem) in verdict.problems.iter().enumerate() {
        let lead = if n == 0 { "FIRST: " } else { "" };
        println!("{lead}{problem}");
    }
    if verdict.unlisted > 0 {
        println!("… and {} more problems not listed.", verdict.unlisted);
    }
    let count = verdict.problems.len() as u64 + verdict.unlisted;
    Err(Failure {
        exit: Exit::Tampered,
        message: format!(
            "the audit trail was altered ({count} problems, the first listed first). Keep the \
             database files (or a pg_dump) as they are for investigation, and compare with a \
             backup from before the first row named."
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_logged_head_parses_as_id_colon_hash() {
        let hash = "ab".repeat(32);
        let text = format!(
            "0190d2a4-1b2c-7d3e-8f40-123456789abc:{}",
            hash.to_uppercase()
        );
        let head = ExpectedHead::parse(&text).expect("parses");
        assert_eq!(head.hash, hash);
        assert!(ExpectedHead::parse("0190d2a4-1b2c-7d3e-8f40-123456789abc").is_none());
        assert!(ExpectedHead::parse("0190d2a4-1b2c-7d3e-8f40-123456789abc:abc").is_none());
        assert!(ExpectedHead::parse(&format!("17:{hash}")).is_none());
    }
}
