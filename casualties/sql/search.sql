-- Text as search compares it (casualties.search.SearchText): the stored side (the regions' search_names, the
-- incidents' and actors' search indexes) and the searched term go through this one function, so a search stays
-- one trigram-indexed query. Immutable, so an index may be built on it and a constant term is folded at planning.
-- Indexes and search_names hold text folded by this definition: a migration that changes it must rebuild them.
--
-- - Arabic: the hamza forms of alef (أ إ آ ٱ) read as ا, alef maqsura ى and Persian ی as ي, ta marbuta ة as ه,
--   ؤ as و, ئ as ي, Persian ک as ك; tatweel and the short-vowel marks (harakat, shadda, sukun, dagger alef)
--   are dropped. So إدلب and ادلب, أريحا and اريحا, are one word.
-- - Latin transliterations of Arabic names: lower case; accented letters (either case, whatever the database's
--   locale does to lower()) read as their base letter
--   (ā as a, ḥ as h, ş as s); e reads as i and o as u (Idleb, Idlib; Aleppo, Alippu); q as k (Saraqib, Sarakib);
--   the marks of ayn and hamza (' ’ ‘ ` ʿ ʾ) are dropped; hyphens are spaces (al-Sham, al Sham); a doubled letter
--   is one (Hayyat, Hayat).
CREATE OR REPLACE FUNCTION casualties_search_text(value text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT regexp_replace(
           translate(lower(value),
                     'āáàâäãåīíìîïūúùûüēéèêëōóòôöõçşšṣğżžẓḥṭḍeoq-أإآٱىیةؤئکĀÁÀÂÄÃÅĪÍÌÎÏŪÚÙÛÜĒÉÈÊËŌÓÒÔÖÕÇŞŠṢĞŻŽẒḤṬḌـًٌٍَُِّْٰ''’‘`ʿʾ',
                     'aaaaaaaiiiiiuuuuuiiiiiuuuuuucsssgzzzhtdiuk ااااييهويكaaaaaaaiiiiiuuuuuiiiiiuuuuuucsssgzzzhtd'),
           '([a-z])\1+', '\1', 'g')
$$;
