import pytest

from codegen_ray.lcb.metrics import pass_at_k, pass_at_k_from_graded, pass_at_k_table

# Hand-computed: 1 - C(n-c, k) / C(n, k)
TABLE = [
    (1, 0, 1, 0.0),
    (1, 1, 1, 1.0),
    (10, 3, 1, 0.3),                      # c/n
    (10, 3, 5, 1 - 21 / 252),             # C(7,5)=21, C(10,5)=252 → 0.916666...
    (10, 0, 5, 0.0),
    (10, 6, 5, 1.0),                      # n-c=4 < k
    (5, 2, 2, 1 - 3 / 10),                # C(3,2)=3, C(5,2)=10
    (4, 1, 2, 1 - 3 / 6),                 # 0.5
    (20, 1, 10, 0.5),                     # C(19,10)/C(20,10) = 10/20
]


@pytest.mark.parametrize("n,c,k,expected", TABLE)
def test_hand_computed(n, c, k, expected):
    assert pass_at_k(n, c, k) == pytest.approx(expected, abs=1e-12)


def test_invalid_arguments():
    with pytest.raises(ValueError):
        pass_at_k(3, 4, 1)
    with pytest.raises(ValueError):
        pass_at_k(3, 1, 5)


def test_table_mean_and_unsupported_k_left_out():
    table = pass_at_k_table({"a": (10, 3), "b": (10, 0), "c": (5, 2)}, ks=(1, 5, 10))
    assert table.ks == (1, 5)  # k=10 needs n >= 10 for every problem (as upstream)
    assert table.per_problem[1] == pytest.approx({"a": 0.3, "b": 0.0, "c": 0.4})
    assert table.mean[1] == pytest.approx((0.3 + 0.0 + 0.4) / 3)
    assert table.mean[5] == pytest.approx((1 - 21 / 252 + 0.0 + 1.0) / 3)
    lcb = table.as_lcb_metrics()
    assert lcb["pass@1"] == table.mean[1] and lcb["detail"]["pass@5"]["c"] == 1.0


def test_pass_at_1_with_one_sample_is_fraction_solved():
    table = pass_at_k_from_graded({"a": [True], "b": [False], "c": [True], "d": [False]}, ks=(1,))
    assert table.mean[1] == 0.5
