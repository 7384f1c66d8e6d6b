-- The needs taxonomy in its own order, for the need picker.
SELECT code, label, category, category_label, ord FROM need_codes ORDER BY ord;
