-- Search ignores diacritics as well as case: "muller" finds Müller, "gomez" every Gómez. The
-- folded name and email search reads (name_folded, email_folded) and the name order
-- (name_sort, which rearranges name_folded) are now decomposed with their marks dropped and
-- case-folded (model::search::fold), so the stored forms of every name or email with an
-- accent change. SQLite's SQL cannot decompose Unicode (and its lower() folds ASCII only), so
-- this records that a refold is due; it runs right after the migrations, in Rust, through the
-- same function the search term goes through (store::refold), and the triggers of 0003 and
-- 0005 carry the new forms into patient_name_words and patient_trigrams.
INSERT INTO settings (key, value) VALUES ('search_refold_due', 'name_folded, name_sort, email_folded')
ON CONFLICT (key) DO NOTHING;
