"""The what-if subcommands answer from the models, and bad input exits 2 with the reason."""

import pytest

from k8smodel.cli import main


def test_lb_table_has_theory_next_to_simulation(capsys):
    assert (
        main(
            [
                "lb",
                "random",
                "round_robin",
                "--pods",
                "2",
                "--utilization",
                "0.5",
                "--requests",
                "5000",
                "--replications",
                "2",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "M/M/1 per pod" in out and "E_2/M/1 per pod" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["lb", "bogus"], "policy must be one of"),
        (["federation", "us-east-1", "eu-westt-1"], "did you mean 'eu-west-1'"),
        (["federation"], "give region names"),
    ],
)
def test_bad_input_exits_2(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err
