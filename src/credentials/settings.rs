//! Which token store to use, resolved from the global `--token-store` flag,
//! `SYNAPSE_TOKEN_STORE` and `token_store` in the `[client]` table, by config's layering rule.

use super::TokenStoreChoice;
use crate::config::{ClientFile, Environment, layered};

/// The token store choice: the flag, else the environment, else the file, else `auto`.
pub fn resolve(
    file: &ClientFile,
    flag: Option<String>,
    env: &Environment,
) -> anyhow::Result<TokenStoreChoice> {
    layered(
        flag,
        env.string("SYNAPSE_TOKEN_STORE"),
        file.token_store.clone(),
    )
    .map(|name| name.parse::<TokenStoreChoice>())
    .transpose()
    .map(Option::unwrap_or_default)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_then_the_environment_then_the_file_then_auto() {
        let file: ClientFile = toml::from_str("token_store = \"keyutils\"").unwrap();
        let env: Environment = [("SYNAPSE_TOKEN_STORE", "memory")].into_iter().collect();
        let none = Environment::default();
        let flag = || Some("secret-service".to_string());
        assert_eq!(
            resolve(&file, flag(), &env).unwrap(),
            TokenStoreChoice::SecretService
        );
        assert_eq!(
            resolve(&file, None, &env).unwrap(),
            TokenStoreChoice::Memory
        );
        assert_eq!(
            resolve(&file, None, &none).unwrap(),
            TokenStoreChoice::Keyutils
        );
        assert_eq!(
            resolve(&ClientFile::default(), None, &none).unwrap(),
            TokenStoreChoice::Auto
        );
        let error = resolve(&file, Some("file".into()), &none).unwrap_err();
        assert!(error.to_string().contains("unknown token store"), "{error}");
    }
}
