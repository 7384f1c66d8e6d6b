-- Homes and their places by the LA they are in, the denominator of local place use.
SELECT urn, la_code, places FROM homes WHERE la_code IS NOT NULL ORDER BY urn;
