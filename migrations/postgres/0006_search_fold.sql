-- Search ignores diacritics as well as case: "muller" finds Müller, "gomez" every Gómez. The
-- folded name and email search reads (name_folded, email_folded) and the name order
-- (name_sort, which rearranges name_folded) are now decomposed with their marks dropped and
-- case-folded (model::search::fold), so the stored forms of every name or email with an
-- accent change.
--
-- Not refolded in SQL: lower() follows the database's locale (under "C" it folds ASCII only),
-- normalize() needs a UTF-8 database, and neither is Unicode case folding, so an SQL refold
-- could store a form that differs from the search term's fold, and that patient would be
-- missed. This records that a refold is due; it runs right after the migrations, in Rust,
-- through the same function the search term goes through (store::refold), and the name-word
-- trigger of 0001 carries the new forms into patient_name_words.
INSERT INTO settings (key, value) VALUES ('search_refold_due', 'name_folded, name_sort, email_folded')
ON CONFLICT (key) DO NOTHING;
