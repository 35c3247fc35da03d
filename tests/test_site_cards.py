"""The index card of a study is read from its executed notebook by the documented convention
(docs/writing-a-study.md): title, question, first Markdown output after "## Answer", thumbnail."""

import base64

from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from k8smodel._site import Study, study_from_notebook

PNG_A, PNG_B = b"\x89PNG first", b"\x89PNG second"


def _image(data: bytes):
    encoded = base64.b64encode(data).decode()
    return new_output("display_data", data={"image/png": encoded, "text/plain": "<Figure>"})


def _markdown(text: str):
    return new_output("display_data", data={"text/markdown": text, "text/plain": "<Markdown>"})


def _study(cells, **metadata):
    return study_from_notebook(new_notebook(cells=cells, metadata=metadata), "07_x")


def test_card_reads_the_answer_section():
    early = new_code_cell("", outputs=[_markdown("an intermediate remark"), _image(PNG_A)])
    answer = new_code_cell(
        "", outputs=[_markdown("Least connections wins by **3.2 s**."), _image(PNG_B)]
    )
    study = _study(
        [
            new_markdown_cell("# How fast?\n\nWhich policy answers fastest?\n\nMore text."),
            early,
            new_markdown_cell("## Answer\n\nThe numbers:"),
            answer,
        ],
        k8smodel={"quick": True},
    )
    assert study.title == "How fast?"
    assert study.question == "Which policy answers fastest?"
    assert study.headline == "Least connections wins by **3.2 s**."
    assert study.thumbnail == PNG_B
    assert study.quick and study.section == "studies" and study.failure is None


def test_without_answer_no_headline_and_first_figure():
    study = _study(
        [
            new_markdown_cell("# Title\n\nThis notebook answers:\n\n* one\n* two\n\nRest."),
            new_code_cell("", outputs=[_markdown("not a headline"), _image(PNG_A)]),
        ]
    )
    assert study.question == "This notebook answers:\n\n* one\n* two"
    assert study.headline == ""
    assert study.thumbnail == PNG_A
    assert not study.quick


def test_validation_notebooks_have_their_own_section():
    assert Study(stem="05_lab_validation", title="t").section == "validation"
    assert Study(stem="01_load", title="t").section == "studies"
