"""The singleton-heavy and syndicated variants of the quality benchmark."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from clusterer import Article


@pytest.fixture
def quality(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1]))
    import benchmarks.quality

    return benchmarks.quality


def _articles() -> list[Article]:
    """Twelve stories of sizes 1..4, two unlabelled articles, interleaved."""
    out = []
    for i in range(30):
        label = None if i in (7, 19) else f"s{i % 12 if i % 12 < 9 else i % 3}"
        out.append(Article(id=f"a{i}", title=f"t{i}", text=f"x{i}", extra={"cluster": label}))
    return out


def _stories(articles: list[Article]) -> Counter[str]:
    return Counter(str(a.extra["cluster"]) for a in articles if a.extra["cluster"] is not None)


def test_thin_cuts_the_chosen_share_of_stories_to_one_article(quality: Any) -> None:
    articles = _articles()
    before = _stories(articles)
    multi = sorted(k for k, v in before.items() if v >= 2)
    thinned = quality.thin(articles, 0.5, seed=3)
    after = _stories(thinned)
    # Every story survives; half of those with several articles now have one.
    assert set(after) == set(before)
    cut = [k for k in multi if after[k] == 1]
    assert len(cut) == round(0.5 * len(multi))
    assert all(after[k] == before[k] for k in before if k not in cut)
    # Unlabelled articles are kept and the input order is preserved.
    assert {"a7", "a19"} <= {a.id for a in thinned}
    positions = [int(a.id[1:]) for a in thinned]
    assert positions == sorted(positions)


def test_thin_is_seeded_and_bounded(quality: Any) -> None:
    articles = _articles()
    ids = [a.id for a in quality.thin(articles, 0.5, seed=1)]
    assert ids == [a.id for a in quality.thin(articles, 0.5, seed=1)]
    assert any(ids != [a.id for a in quality.thin(articles, 0.5, seed=s)] for s in range(2, 8))
    assert quality.thin(articles, 0.0) == articles
    assert all(v == 1 for v in _stories(quality.thin(articles, 1.0)).values())
    with pytest.raises(ValueError, match="fraction"):
        quality.thin(articles, 1.5)


def _long_articles() -> list[Article]:
    """Six stories of two articles, each body eight distinct sentences."""
    out = []
    for i in range(12):
        text = " ".join(
            f"Sentence {j} of article {i} says w{i}x{j} and more words." for j in range(8)
        )
        out.append(Article(id=f"a{i}", title=f"t{i}", text=text, extra={"cluster": f"s{i // 2}"}))
    return out


def test_syndicate_adds_edited_copies_to_the_chosen_share_of_stories(quality: Any) -> None:
    articles = _long_articles()
    out = quality.syndicate(articles, 0.5, seed=4)
    # The originals come first, unchanged; copies follow.
    assert out[: len(articles)] == articles
    copies = out[len(articles) :]
    by_source: dict[str, list[Article]] = {}
    for c in copies:
        source, _, k = c.id.partition("~copy")
        assert k.isdigit()
        by_source.setdefault(source, []).append(c)
    sources = {a.id: a for a in articles}
    # Half the stories, one source article each, 2-6 copies of it.
    assert len({sources[s].extra["cluster"] for s in by_source}) == 3 == len(by_source)
    assert all(2 <= len(v) <= 6 for v in by_source.values())
    for source, made in by_source.items():
        original = sources[source]
        for c in made:
            assert (c.title, c.date, c.extra) == (original.title, original.date, original.extra)
            # An edited copy: its words come from the original, in a changed text.
            assert set(c.text.split()) <= set(original.text.split())
    assert any(c.text != sources[c.id.split("~")[0]].text for c in copies)


def test_syndicate_is_seeded_and_bounded(quality: Any) -> None:
    articles = _long_articles()
    ids = [a.id for a in quality.syndicate(articles, 0.5, seed=1)]
    assert ids == [a.id for a in quality.syndicate(articles, 0.5, seed=1)]
    assert any(ids != [a.id for a in quality.syndicate(articles, 0.5, s)] for s in range(2, 8))
    assert quality.syndicate(articles, 0.0) == articles
    copied = quality.syndicate(articles, 1.0)[len(articles) :]
    assert len({c.extra["cluster"] for c in copied}) == 6
    with pytest.raises(ValueError, match="fraction"):
        quality.syndicate(articles, -0.1)


@pytest.mark.parametrize(
    ("option", "make"), [("--singletons", _articles), ("--syndicated", _long_articles)]
)
def test_variant_options_add_a_variant_and_write_nothing(
    quality: Any,
    option: str,
    make: Callable[[], list[Article]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "toy").mkdir()
    records = [
        {"id": a.id, "title": a.title, "text": a.text, "cluster": a.extra["cluster"]}
        for a in make()
    ]
    (tmp_path / "toy" / "toy.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    written: list[object] = []
    monkeypatch.setattr(quality, "_write", lambda *args: written.append(args))
    assert quality.main(["--data", str(tmp_path), option, "0.5"]) == 0
    out = capsys.readouterr().out
    assert f"toy+{option[2:]}0.5" in out
    assert not written
    with pytest.raises(SystemExit):
        quality.main(["--data", str(tmp_path), option, "2"])
