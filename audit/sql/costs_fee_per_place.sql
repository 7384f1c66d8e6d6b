-- The median weekly fee per place of the region's homes: the default cost of a place in a new home.
SELECT median(weekly_fee) AS fee, count(weekly_fee) AS homes FROM homes WHERE weekly_fee IS NOT NULL AND weekly_fee > 0;
