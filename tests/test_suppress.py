"""Small-number suppression: primary, secondary, rates, and who may see what."""

import numpy as np
import pandas as pd

from audit.suppress import PRIMARY, SECONDARY, Viewer, hidden_count, suppress, suppress_matrix


def test_primary_hides_one_to_four_only():
    df = pd.DataFrame({"la": list("abcde"), "n": [0, 1, 4, 5, 12]})
    s = suppress(df, ["n"])
    assert s.display["n"].tolist() == [0, PRIMARY, PRIMARY, 5, 12]
    assert np.isnan(s.numeric["n"].iat[1]) and s.numeric["n"].iat[4] == 12


def test_secondary_hides_next_smallest_when_column_total_is_known():
    df = pd.DataFrame({"la": list("abcd"), "n": [3, 40, 9, 25]})
    s = suppress(df, ["n"], col_totals=True)
    # Total 77 is public; with only '3' hidden it could be derived, so 9 (next smallest) goes too.
    assert s.display["n"].tolist() == [PRIMARY, 40, SECONDARY, 25]


def test_secondary_in_cross_tab_hides_enough_on_both_axes():
    m = pd.DataFrame([[2, 10, 30], [15, 20, 8], [40, 6, 50]], columns=list("xyz"), index=list("abc"))
    s = suppress_matrix(m)
    mask = s.mask.to_numpy()
    # No row or column may have exactly one hidden cell.
    assert all(r != 1 for r in mask.sum(axis=1)) and all(c != 1 for c in mask.sum(axis=0))
    assert s.display.iat[0, 0] == PRIMARY


def test_rates_on_small_bases_are_hidden():
    df = pd.DataFrame({"la": ["a", "b"], "n": [3, 50], "pct": [66.7, 20.0]})
    s = suppress(df, ["n"], rates={"pct": "n"})
    assert s.display["pct"].tolist() == [PRIMARY, 20.0]


def test_viewer_sees_own_la_unsuppressed_but_not_in_meeting_mode():
    df = pd.DataFrame({"la_code": ["E10000020", "E10000029"], "n": [3, 2]})
    own = Viewer(child_level_las=frozenset({"E10000020"}))
    s = suppress(df, ["n"], la_col="la_code", viewer=own)
    assert s.display["n"].tolist() == [3, PRIMARY]
    meeting = Viewer(child_level_las=frozenset({"E10000020"}), meeting_mode=True)
    assert suppress(df, ["n"], la_col="la_code", viewer=meeting).display["n"].tolist() == [PRIMARY, PRIMARY]


def test_hidden_count_formats_headlines():
    assert hidden_count(3) == PRIMARY and hidden_count(3, True) == "3" and hidden_count(1234) == "1,234"


def test_parts_of_a_shown_total_cannot_be_recovered_by_subtraction():
    from audit.suppress import partition_counts

    shown = partition_counts({"near": 556, "far": 92, "none": 2})
    assert shown == {"near": "556", "far": "c", "none": PRIMARY}
    assert partition_counts({"near": 556, "far": 92, "none": 2}, viewer_may_see=True)["none"] == "2"
    assert partition_counts({"near": 10, "far": 0, "none": 7}) == {"near": "10", "far": "0", "none": "7"}


def test_shares_hide_what_the_base_would_give_back():
    df = pd.DataFrame({"LA": ["A", "B", "C", "D"], "Children": [40, 16, 3, 20],
                       "% outside": [50.0, 93.8, 66.7, 10.0]})
    base = pd.Series([40, 16, 3, 20])
    s = suppress(df, ["Children"], rates={"% outside": "Children"}, shares={"% outside": base})
    shown = s.display["% outside"].tolist()
    # A: 20 of 40 either way, shown. B: 15 of 16 leaves 1 inside. C: base under 5. D: 2 of 20 outside.
    assert shown[0] == 50.0 and shown[1] == "c" and shown[2] == "<5" and shown[3] == "c"
    assert s.mask["% outside"].tolist() == [False, True, True, True]
    assert s.numeric["% outside"].isna().tolist() == [False, True, True, True]


def test_headline_share_marks():
    from audit.suppress import hidden_share

    assert hidden_share(20, 40) is None
    assert hidden_share(39, 40) == "c" and hidden_share(2, 40) == "c"
    assert hidden_share(2, 3) == "<5"
    assert hidden_share(39, 40, viewer_may_see=True) is None
