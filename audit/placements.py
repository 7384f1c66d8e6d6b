"""SSDA903 placement codes the importer, the forecast and the sample all group the same way."""

# Children's homes (K1, K2), residential care homes (R1), residential schools (S1) and other residential
# settings (P3): the places a children's residential care network commissions.
RESIDENTIAL = ("K1", "K2", "R1", "S1", "P3")
