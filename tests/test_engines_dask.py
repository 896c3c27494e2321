"""The Dask engine gives the local engine's partition exactly (real LocalCluster, 2 workers)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from clusterer import ClusterConfig, Clustering, ReadReport, cluster, read_articles
from clusterer.engines import EngineRun, cluster_partitioned
from clusterer.engines.partitions import discover

distributed = pytest.importorskip("distributed")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

_WORDS = [f"w{i}" for i in range(3000)]


def _corpus(n: int, seed: int = 5) -> list[dict[str, Any]]:
    """Stories of several publications each: exact copies, light edits, rewrites, undated."""
    rng = np.random.default_rng(seed)
    records: list[dict[str, Any]] = []
    story = 0
    while len(records) < n:
        base = list(rng.choice(_WORDS, size=int(rng.integers(40, 160))))
        title = " ".join(rng.choice(_WORDS, size=6))
        day = int(rng.integers(1, 28))
        for copy in range(int(rng.integers(1, 6))):
            words = list(base)
            if copy >= 2:
                for _ in range(int(rng.integers(1, 4 * copy))):
                    words[int(rng.integers(len(words)))] = str(rng.choice(_WORDS))
            if copy == 4:
                words = words[: len(words) // 2] + list(rng.choice(_WORDS, size=30))
            date = None if rng.random() < 0.1 else f"2024-03-{day + copy % 3:02d}T10:00:00Z"
            record = {
                "id": f"a{int(rng.integers(1 << 40)):011x}",
                "title": title,
                "text": "" if rng.random() < 0.01 else " ".join(words),
                "date": date,
                "source": f"s{copy}",
            }
            if not record["text"]:  # a failed extraction: only the address is left
                record["url"] = f"https://news.example/{day}/{title.replace(' ', '-')}-{story}/"
                record["title"] = ""
            records.append(record)
        story += 1
    return records[:n]


def _write_jsonl(records: list[dict[str, Any]], directory: Path, files: int) -> Path:
    directory.mkdir()
    for k, chunk in enumerate(np.array_split(np.arange(len(records)), files)):
        with open(directory / f"part-{k:03d}.jsonl", "w") as f:
            for i in chunk:
                f.write(json.dumps(records[int(i)]) + "\n")
    return directory


def _key(c: Clustering) -> tuple[Any, ...]:
    lt = c.link_table
    assert lt is not None
    return (
        c.assignments,
        c.stories,
        c.duplicate_groups,
        lt.left.tolist(),
        lt.right.tolist(),
        lt.similarity.tolist(),
        lt.accepted.tolist(),
        lt.kind.tolist(),
        dict(c.config),
    )


@pytest.fixture(scope="module")
def client() -> Any:
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster_,
        distributed.Client(cluster_) as c,
    ):
        yield c


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write_jsonl(_corpus(3000), tmp_path_factory.mktemp("c") / "in", files=3)


@pytest.mark.parametrize(
    ("config", "partitions"),
    [
        (ClusterConfig(), 7),
        (ClusterConfig(verify="estimate", linkage="complete", date_decay_days=None), None),
    ],
)
def test_dask_equals_local(
    client: Any, corpus: Path, config: ClusterConfig, partitions: int | None
) -> None:
    local = cluster_partitioned(corpus, config, partitions=partitions)
    dask = cluster_partitioned(corpus, config, engine="dask", client=client, partitions=partitions)
    assert isinstance(local, Clustering)
    assert isinstance(dask, Clustering)
    assert _key(dask) == _key(local)
    # The local engine over partitions is the plain batch path over the same files.
    assert _key(cluster(read_articles([corpus]), config)) == _key(local)
    # Non-trivial: copies, edited near-duplicates and multi-article stories exist.
    assert sum(len(g.members) > 1 for g in local.duplicate_groups) > 100
    assert sum(len(s.members) > 2 for s in local.stories) > 100
    size = {s.id: len(s.members) for s in local.stories}
    assert any(
        a.empty and size[a.story_id] > 1 for a in local.assignments
    )  # joined by the URL slug


def test_dask_equals_local_with_specific_terms(client: Any, corpus: Path) -> None:
    """The specific-term rule needs corpus-wide day moments: the same flags, the same result."""
    rule = ClusterConfig(specific_terms=True, specific_df=5, specific_spread_days=2.0)
    local = cluster_partitioned(corpus, rule, partitions=5)
    dask = cluster_partitioned(corpus, rule, engine="dask", client=client, partitions=5)
    assert isinstance(local, Clustering)
    assert isinstance(dask, Clustering)
    assert _key(dask) == _key(local)
    assert _key(cluster(read_articles([corpus]), rule)) == _key(local)
    plain = cluster_partitioned(corpus, ClusterConfig(), partitions=5)
    assert isinstance(plain, Clustering)
    assert _key(plain) != _key(local)  # the rule changes this corpus's stories


def test_byte_range_partitions_keep_origins(corpus: Path) -> None:
    parts = discover(corpus, partitions=9)
    assert len(parts) >= 9
    whole = cluster_partitioned(corpus)
    split = cluster_partitioned(corpus, partitions=9)
    assert isinstance(whole, Clustering)
    assert isinstance(split, Clustering)
    assert [a.origin for a in split.assignments] == [a.origin for a in whole.assignments]


def test_parquet_in_partitioned_out(client: Any, tmp_path: Path) -> None:
    records = _corpus(1200, seed=9)
    src = tmp_path / "pq"
    src.mkdir()
    for k, chunk in enumerate(np.array_split(np.arange(len(records)), 2)):
        table = pa.Table.from_pylist([records[int(i)] for i in chunk])
        pq.write_table(table, src / f"part-{k}.parquet", row_group_size=200)
    local = cluster_partitioned(src, partitions=5)
    assert isinstance(local, Clustering)
    out = tmp_path / "out.parquet"
    run = cluster_partitioned(src, engine="dask", client=client, partitions=5, output=f"{out}/")
    assert isinstance(run, EngineRun)
    assert len(run.files) == run.partitions == 4  # row groups: 3 per file, split 2 + 1
    rows = pa.concat_tables([pq.read_table(f) for f in run.files]).to_pylist()
    assert [r["id"] for r in rows] == [a.id for a in local.assignments]
    assert [(r["story_id"], r["duplicate_group_id"]) for r in rows] == [
        (a.story_id, a.duplicate_group_id) for a in local.assignments
    ]
    assert rows[0]["origin"].endswith("part-0.parquet:1")
    single = cluster_partitioned(src, engine="dask", client=client, output=tmp_path / "one.jsonl")
    assert isinstance(single, EngineRun)
    lines = (tmp_path / "one.jsonl").read_text().splitlines()
    assert [json.loads(x)["story_id"] for x in lines] == [a.story_id for a in local.assignments]


def test_duplicate_ids_are_an_error(client: Any, tmp_path: Path) -> None:
    from clusterer import DuplicateIdError

    records = _corpus(50)
    records[40]["id"] = records[3]["id"]
    src = _write_jsonl(records, tmp_path / "in", files=2)
    with pytest.raises(DuplicateIdError, match="duplicate id"):
        cluster_partitioned(src, engine="dask", client=client)


def test_missing_extra_names_the_pip_command(corpus: Path) -> None:
    code = (
        "import sys; sys.modules['dask'] = None; sys.modules['distributed'] = None\n"
        "from clusterer.engines import cluster_partitioned\n"
        "from clusterer import MissingExtraError\n"
        "try:\n"
        f"    cluster_partitioned({str(corpus)!r}, engine='dask')\n"
        "except MissingExtraError as e:\n"
        "    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pip install 'clusterer[dask]'" in out.stdout


def test_small_inputs_empty_partitions_and_rejects(client: Any, tmp_path: Path) -> None:
    from clusterer.engines import ReadOptions

    src = tmp_path / "in"
    src.mkdir()
    (src / "a.jsonl").write_text("")
    text = "hello world this is a short text about nothing"
    x, y = json.dumps({"id": "x", "text": text}), json.dumps({"id": "y", "text": text})
    lines = [x, "not json", y]
    (src / "b.jsonl").write_text("\n".join(lines) + "\n")
    options = ReadOptions(on_error="skip")
    local = cluster_partitioned(src, options=options)
    dask = cluster_partitioned(src, engine="dask", client=client, options=options)
    assert isinstance(local, Clustering)
    assert isinstance(dask, Clustering)
    assert _key(dask) == _key(local)
    assert [r.origin for r in dask.rejects] == [f"{src / 'b.jsonl'}:2"]
    (src / "b.jsonl").write_text("")
    empty = cluster_partitioned(src, engine="dask", client=client)
    assert isinstance(empty, Clustering)
    assert empty.n_articles == 0


def test_duplicates_only_equals_local(client: Any, corpus: Path) -> None:
    config = ClusterConfig()
    local = cluster_partitioned(corpus, config, partitions=4, duplicates_only=True)
    dask = cluster_partitioned(
        corpus, config, engine="dask", client=client, partitions=4, duplicates_only=True
    )
    assert isinstance(local, Clustering)
    assert isinstance(dask, Clustering)
    assert _key(dask) == _key(local)
    assert _key(cluster(read_articles([corpus]), config, duplicates_only=True)) == _key(local)
    assert all(a.story_id == a.duplicate_group_id for a in dask.assignments)
    assert sum(len(g.members) > 1 for g in dask.duplicate_groups) > 100


def test_cli_duplicates_only_on_dask(client: Any, corpus: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from clusterer.cli import app

    runner = CliRunner()
    outs = {}
    for engine in ("local", "dask"):
        out = tmp_path / f"{engine}.jsonl"
        args = ["cluster", str(corpus), "-o", str(out), "--duplicates-only", "-q"]
        if engine == "dask":
            args += ["--engine", "dask", "--scheduler", client.scheduler.address]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        outs[engine] = out.read_text()
    assert outs["dask"] == outs["local"]
    rows = [json.loads(line) for line in outs["dask"].splitlines()]
    assert all(r["story_id"] == r["duplicate_group_id"] for r in rows)


def test_rerun_on_the_same_client_gives_the_same_answer(client: Any, corpus: Path) -> None:
    """Scattered inputs of one run must not be confused with an identical earlier run's."""
    first = cluster_partitioned(corpus, engine="dask", client=client, partitions=5)
    second = cluster_partitioned(corpus, engine="dask", client=client, partitions=5)
    assert isinstance(first, Clustering)
    assert isinstance(second, Clustering)
    assert _key(second) == _key(first)


def test_partition_objects_report_their_real_size(corpus: Path) -> None:
    from dask.sizeof import sizeof

    from clusterer.engines import stages
    from clusterer.engines.partitions import ReadOptions

    config = ClusterConfig()
    part = stages.load(discover(corpus)[0], ReadOptions(), config)
    f = part.features
    arrays = f.signatures.nbytes + f.shingles.nbytes + f.term_features.nbytes
    assert sizeof(part) > arrays + sum(map(len, part.meta.titles))
    df = stages.doc_freq(part, config)
    sp = stages.story_part(part, config, df, len(part))
    assert sizeof(sp) > sp.rows.weights.nbytes + sp.rows.features.nbytes
    rows = stages.tfidf_extract(sp, 0, np.arange(len(part), dtype=np.int64))[0]
    assert sizeof(rows) > rows.values[0].nbytes + rows.values[1].nbytes
    lean = stages.release(part, "shingles", "terms", "signatures")
    assert sizeof(part) - sizeof(lean) >= arrays
    assert lean.features.n_tokens is f.n_tokens
    assert part.features.shingles.size > 0  # the original is unchanged


def test_csv_and_tsv_inputs(client: Any, tmp_path: Path) -> None:
    import csv

    records = _corpus(1500, seed=11)
    src = tmp_path / "mixed"
    src.mkdir()
    chunks = np.array_split(np.arange(len(records)), 3)
    fields = sorted({k for r in records for k in r})
    for name, delimiter, chunk in (("a.csv", ",", chunks[0]), ("b.tsv", "\t", chunks[1])):
        with open(src / name, "w", newline="") as f:
            writer = csv.DictWriter(f, fields, delimiter=delimiter)
            writer.writeheader()
            for i in chunk:
                row = dict(records[int(i)])
                row["text"] = row["text"].replace(" w1", "\nw1")  # quoted fields spanning lines
                writer.writerow(row)
    with open(src / "c.jsonl", "w") as f:
        for i in chunks[2]:
            f.write(json.dumps(records[int(i)]) + "\n")
    local = cluster_partitioned(src, partitions=6)
    dask = cluster_partitioned(src, engine="dask", client=client, partitions=6)
    assert isinstance(local, Clustering)
    assert isinstance(dask, Clustering)
    assert [p.kind for p in discover(src, partitions=6)][:2] == ["csv", "tsv"]
    assert _key(dask) == _key(local)
    assert _key(cluster(read_articles([src]))) == _key(local)
    assert local.n_articles == len(records)
    assert local.assignments[0].origin.endswith("a.csv:2")  # line of the first record


def test_cli_duplicate_id_policy_on_dask(client: Any, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from clusterer.cli import app

    src = _repeated_ids(tmp_path)
    runner = CliRunner()
    base = ["cluster", str(src), "-q", "--on-error", "skip", "--on-duplicate-id", "rename"]
    dask = ["--engine", "dask", "--scheduler", client.scheduler.address]
    local_out, dask_out, parts = tmp_path / "l.jsonl", tmp_path / "d.jsonl", tmp_path / "parts"
    for args in ([*base, "-o", str(local_out)], [*base, *dask, "-o", str(dask_out)]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
    assert dask_out.read_text() == local_out.read_text()
    local_rejects = (tmp_path / "l.jsonl.rejects.jsonl").read_text()
    assert (tmp_path / "d.jsonl.rejects.jsonl").read_text() == local_rejects
    stories = [tmp_path / "l-stories.jsonl", tmp_path / "d-stories.jsonl"]
    result = runner.invoke(app, [*base, "-o", str(local_out), "--stories", str(stories[0])])
    assert result.exit_code == 0, result.output
    by_workers = [*base, *dask, "--partitions", "4", "-o", str(parts), "--stories", str(stories[1])]
    result = runner.invoke(app, by_workers)
    assert result.exit_code == 0, result.output
    written = "".join(p.read_text() for p in sorted(parts.iterdir()))
    assert written == local_out.read_text()
    assert (tmp_path / "parts.rejects.jsonl").read_text() == local_rejects
    assert stories[1].read_text() == stories[0].read_text()
    # Without a policy, the first repeated id in input order stops both engines alike.
    errors = [
        runner.invoke(app, ["cluster", str(src), "--on-error", "skip", *extra])
        for extra in ([], dask)
    ]
    assert [e.exit_code for e in errors] == [1, 1]
    assert errors[0].output == errors[1].output
    assert "pass --on-duplicate-id first|rename" in errors[1].output


def test_cli_partitioned_output_keeps_rejects_and_config(client: Any, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from clusterer.cli import app

    src = _write_jsonl(_corpus(300, seed=3), tmp_path / "in", files=2)
    with open(src / "part-001.jsonl", "a") as f:
        f.write("not json\n")
    out = tmp_path / "out"
    base = ["cluster", str(src), "-o", str(out), "--engine", "dask"]
    base += ["--scheduler", client.scheduler.address, "-q"]
    runner = CliRunner()
    refused = runner.invoke(app, [*base, "--explain"])
    assert refused.exit_code == 2
    assert "--explain lists every link" in refused.output
    result = runner.invoke(
        app, [*base, "--on-error", "skip", "--save-config", str(tmp_path / "c.json")]
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["part-00000.jsonl", "part-00001.jsonl"]
    rejects = (tmp_path / "out.rejects.jsonl").read_text().splitlines()
    assert [json.loads(r)["origin"] for r in rejects] == [f"{src / 'part-001.jsonl'}:151"]
    assert json.loads((tmp_path / "c.json").read_text())["num_perm"] == 128


def test_dask_equals_local_with_attachments(client: Any, corpus: Path) -> None:
    # A low floor and ratio make the attachment pass join many lone articles here.
    config = ClusterConfig(attach_ratio=0.1, attach_floor=0.03)
    local = cluster_partitioned(corpus, config, partitions=5)
    dask = cluster_partitioned(corpus, config, engine="dask", client=client, partitions=5)
    assert isinstance(local, Clustering)
    assert isinstance(dask, Clustering)
    assert local.link_table is not None
    assert int((local.link_table.kind == 2).sum()) > 50
    assert _key(dask) == _key(local)
    assert _key(cluster(read_articles([corpus]), config)) == _key(local)


def _repeated_ids(tmp_path: Path) -> Path:
    """Ids repeated across partitions, and a real ``x~2`` that a rename would hand out."""
    records = _corpus(1500, seed=13)
    for a, b in ((10, 1100), (10, 1400), (20, 700), (700, 701), (33, 34)):
        records[b]["id"] = records[a]["id"]
    records[40]["id"], records[900]["id"], records[1300]["id"] = "x", "x", "x~2"
    records[50]["id"], records[60]["id"], records[1200]["id"] = "y~2", "y", "y"
    records[1450] = dict(records[1449])  # an exact copy, id and all
    src = _write_jsonl(records, tmp_path / "in", files=3)
    with open(src / "part-001.jsonl", "a") as f:
        f.write("not json\n")
    return src


@pytest.mark.parametrize("policy", ["first", "rename"])
def test_duplicate_id_policies_equal_local(client: Any, tmp_path: Path, policy: str) -> None:
    from clusterer.engines import ReadOptions

    src = _repeated_ids(tmp_path)
    options = ReadOptions(on_error="skip", on_duplicate_id=policy)  # type: ignore[arg-type]
    local = cluster_partitioned(src, options=options, partitions=5)
    dask = cluster_partitioned(src, engine="dask", client=client, options=options, partitions=5)
    assert isinstance(local, Clustering)
    assert isinstance(dask, Clustering)
    assert _key(dask) == _key(local)
    assert dask.rejects == local.rejects
    # The local engine is the plain reader path with the same policy.
    report = ReadReport()
    plain = cluster(
        read_articles([src], on_error="skip", on_duplicate_id=policy, report=report),  # type: ignore[arg-type]
        rejects=report.rejects,
    )
    assert _key(plain) == _key(local)
    assert plain.rejects == local.rejects
    ids = [a.id for a in local.assignments]
    if policy == "first":
        assert len(local.rejects) == 9
        assert local.n_articles == 1500 - 8
        assert "kept the first" in local.rejects[0].reason
    else:
        assert len(local.rejects) == 1
        assert local.n_articles == 1500
        assert {"x~2", "x~2~2", "y~2", "y~3"} <= set(ids)
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize(("suffix", "duplicates_only"), [(".jsonl", False), (".csv", True)])
def test_story_summary_built_on_workers(
    client: Any, corpus: Path, tmp_path: Path, suffix: str, duplicates_only: bool
) -> None:
    local_stories, dask_stories = tmp_path / f"l{suffix}", tmp_path / f"d{suffix}"
    config = ClusterConfig(attach_ratio=0.1, attach_floor=0.03)  # many attached articles
    local = cluster_partitioned(
        corpus, config, stories=local_stories, duplicates_only=duplicates_only
    )
    run = cluster_partitioned(
        corpus,
        config,
        engine="dask",
        client=client,
        partitions=5,
        output=tmp_path / "out",
        stories=dask_stories,
        duplicates_only=duplicates_only,
    )
    assert isinstance(local, Clustering)
    assert isinstance(run, EngineRun)
    assert run.clustering is None  # nothing was assembled on the client
    assert dask_stories.read_text() == local_stories.read_text()
    assert not (tmp_path / f"d{suffix}.parts").exists()
    assert len(local_stories.read_text().splitlines()) >= len(local.stories)
    counted = [(s.rejected_links > 0, s.attached > 0) for s in local.stories]
    assert any(r for r, _ in counted) != duplicates_only
    assert any(a for _, a in counted) != duplicates_only


def test_cli_parquet_parts_read_back_by_explain(client: Any, tmp_path: Path) -> None:
    """``-o out.parquet/`` keeps its trailing separator (parts, not one file), and
    ``clusterer explain`` reads such a directory back, as it reads the local file."""
    from typer.testing import CliRunner

    from clusterer.cli import app
    from clusterer.output import read_assignments

    pytest.importorskip("pyarrow", reason="Parquet needs the parquet extra (pyarrow)")
    src = _write_jsonl(_corpus(300, seed=4), tmp_path / "in", files=2)
    runner = CliRunner()
    local = tmp_path / "local.jsonl"
    assert runner.invoke(app, ["cluster", str(src), "-o", str(local), "-q"]).exit_code == 0
    parts = tmp_path / "out.parquet"
    args = ["cluster", str(src), "-o", f"{parts}/", "--engine", "dask", "-q"]
    result = runner.invoke(app, [*args, "--scheduler", client.scheduler.address])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in parts.iterdir()) == ["part-00000.parquet", "part-00001.parquet"]
    assert read_assignments(parts) == read_assignments(local)
    first = read_assignments(local)[0]
    shown = runner.invoke(app, ["explain", str(parts), first.id, "--input", str(src)])
    assert shown.exit_code == 0, shown.output
    assert f"story {first.story_id}:" in shown.output


def test_dask_equals_local_when_duplicates_leave_their_groups(client: Any, tmp_path: Path) -> None:
    # Video pages of stories years apart whose body is one site's boilerplate: verified
    # near-duplicates, but their story similarity is below the threshold, so the pairs
    # leave the duplicate groups (scored on workers by the Dask engine).
    records = _corpus(900, seed=17)
    text = "Chat with us in Facebook Messenger. Find out what's happening in the world."
    for k in range(6):
        source = records[100 * k]
        date = f"{2018 + k}-03-05T10:00:00Z"
        records.append({"id": f"video{k}", "title": source["title"], "text": text, "date": date})
    src = _write_jsonl(records, tmp_path / "in", files=3)
    config = ClusterConfig()
    local = cluster_partitioned(src, config, partitions=4)
    dask = cluster_partitioned(src, config, engine="dask", client=client, partitions=4)
    assert isinstance(local, Clustering)
    groups = {a.duplicate_group_id for a in local.assignments if a.id.startswith("video")}
    assert len(groups) == 6
    assert _key(dask) == _key(local)
    assert _key(cluster(read_articles([src]), config)) == _key(local)
    only = cluster_partitioned(src, config, partitions=4, duplicates_only=True)
    assert isinstance(only, Clustering)
    assert len({a.duplicate_group_id for a in only.assignments if a.id.startswith("video")}) == 1
