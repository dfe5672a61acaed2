"""The refresh run: for each source, fetch, load, diff against the last snapshot, apply in one write.

Per source, in this order (a kill at any point is recovered by the next run; see docs/refresh.md):

1. fetch the files and hash them; an unchanged hash means nothing to do;
2. run the format's loader on the whole snapshot and cut its records into bundles;
3. diff the bundles against the state of the last applied snapshot: changed and new bundles are
   rewritten, dated relationships the source no longer states are end-dated (``valid_to``), lifted
   sanctions get ``delisting_date``, and every reported change becomes a ChangeEvent;
4. write the *pending journal* (the next state, the changes, the change log's length);
5. one atomic store write: the facts, the end-dates, the ChangeEvents and a SourceSnapshot marker;
6. append the changes to the change log, then rename the journal over the state.

At the start of a run, a journal left by a killed run is settled first: if its SourceSnapshot marker
is in the graph the write committed, so steps 6 are redone (the log is cut back to its recorded
length first); if not, nothing of it reached the graph, and the source is simply refreshed again
(reusing the journal's run id and as-of date when the snapshot is the same, so the result is identical
to the uninterrupted run). ChangeEvent keys depend only on the source, the previous state and the
change, so redoing a write merges into what is there: no duplicates, no lost changes.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import os
import secrets
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from graph.records import EdgeRecord, NodeRecord, Provenance, Record
from graph.schema import SchemaError
from graph.store import Store, StoreError, StoreUnavailable
from loaders.base import LoadError, LoadOptions, Reject, get_loader
from loaders.dates import parse_date
from shadowfleet.refresh.changes import Change, Diff, diff_bundles
from shadowfleet.refresh.config import RefreshConfig, SourceConfig
from shadowfleet.refresh.fetch import FetchError, fetch
from shadowfleet.refresh.snapshot import Bundle, bundle_id, make_bundles, owner_side, split_id
from shadowfleet.refresh.state import SourceFiles, StateDir

PAUSE_ENV = "SHADOWFLEET_REFRESH_PAUSE_AT"
STAGES = ("fetched", "loaded", "pending", "writing", "bulk-written", "committed", "logged")
Say = Callable[[str], None]


class SourceError(RuntimeError):
    """A source cannot be refreshed this time (the message says why)."""


def store_id(store: Store) -> str:
    """Which graph the refresh state belongs to: state is kept per store."""
    if store.backend == "memory":
        return "memory"
    digest = hashlib.sha1(store.location.encode()).hexdigest()[:10]
    return f"{store.backend}-{digest}"


def utc_now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def pause_point(stage: str, source: str) -> None:
    """Test hook: with SHADOWFLEET_REFRESH_PAUSE_AT=stage[:source], stop here (to be killed)."""
    wanted = os.environ.get(PAUSE_ENV)
    if not wanted:
        return
    want_stage, _, want_source = wanted.partition(":")
    if want_stage == stage and want_source in ("", source):
        print(f"refresh: paused at {stage} ({source})", file=sys.stderr, flush=True)
        time.sleep(3600)


@dataclass
class SourceReport:
    """What happened to one source in one run."""

    name: str
    format: str
    status: str = "pending"  # baseline | applied | unchanged | failed | dry-run
    message: str = ""
    schedule: str | None = None
    as_of: str | None = None
    previous_as_of: str | None = None
    run_id: str | None = None
    sequence: int | None = None
    content_hash: str | None = None
    rows_read: int = 0
    records: int = 0
    records_written: int = 0
    bundles: int = 0
    added: int = 0
    changed: int = 0
    removed: int = 0
    end_dated: int = 0
    recovered: str | None = None
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    changes: list[dict[str, Any]] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return self.status == "failed"

    def as_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k != "rejects"}
        out["rejected"] = len(self.rejects)
        out["seconds"] = round(self.seconds, 3)
        out["timings"] = {k: round(v, 3) for k, v in self.timings.items()}
        return out


@dataclass
class RunReport:
    """A whole run."""

    run_id: str
    as_of: str
    store: str
    started: str
    finished: str | None = None
    sources: list[SourceReport] = field(default_factory=list)

    @property
    def failed(self) -> list[SourceReport]:
        return [s for s in self.sources if s.failed]

    @property
    def changes(self) -> list[dict[str, Any]]:
        return [c for s in self.sources for c in s.changes]

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "as_of": self.as_of,
            "store": self.store,
            "started": self.started,
            "finished": self.finished,
            "sources": [s.as_dict() for s in self.sources],
            "failed": [s.name for s in self.failed],
            "changes": len(self.changes),
        }


class Refresher:
    """Runs one refresh of the configured sources against one store. The caller holds the run lock."""

    def __init__(
        self,
        store: Store,
        config: RefreshConfig,
        root: Path,
        *,
        as_of: str | None = None,
        run_id: str | None = None,
        dry_run: bool = False,
        say: Say | None = None,
        bulk_records: int | None = None,
    ) -> None:
        self.store = store
        self.config = config
        self.state = StateDir(root, store_id(store))
        raw = as_of or config.as_of or datetime.now(UTC).date().isoformat()
        try:
            self.as_of = parse_date(raw)
        except ValueError as exc:
            raise ValueError(f"as-of date: {exc}") from None
        self.run_id = run_id or new_run_id()
        self.dry_run = dry_run
        self.bulk_records = config.bulk_records if bulk_records is None else bulk_records
        self.say = say or (lambda _msg: None)
        self._uncommitted: dict[str, dict[str, Any]] = {}  # journals whose write never committed
        self._unrecorded: dict[str, dict[str, Any]] = {}  # dry run: committed journals not yet recorded

    # ---- the run --------------------------------------------------------------------------------

    def run(self, only: Sequence[str] | None = None) -> RunReport:
        report = RunReport(self.run_id, self.as_of, self.store.location, utc_now())
        sources = [self.config.source(n) for n in only] if only else list(self.config.sources)
        recovered = self._settle_journals()
        store_lost: str | None = None
        for src in sources:
            started = time.monotonic()
            rep = SourceReport(src.name, src.format, schedule=src.schedule)
            if src.name in recovered:
                doc = recovered[src.name]
                if self.dry_run:
                    rep.recovered = (
                        f"snapshot #{doc['seq']} of interrupted run {doc['run_id']} is in the graph "
                    )
                    rep.recovered += "but not recorded yet (a run without --dry-run records it)"
                else:
                    rep.recovered = f"completed snapshot #{doc['seq']} of run {doc['run_id']} (interrupted)"
                    rep.status = "applied"
                rep.changes = list(doc["changes"])
            if store_lost is not None:
                rep.status, rep.message = "failed", store_lost
            else:
                try:
                    with _gc_paused():
                        self._source(src, rep)
                except StoreUnavailable as exc:
                    store_lost = str(exc)
                    rep.status, rep.message = "failed", store_lost
                except (FetchError, LoadError, SourceError, SchemaError, StoreError, OSError) as exc:
                    rep.status, rep.message = "failed", _one_line(exc)
                except (ValueError, RuntimeError) as exc:
                    rep.status, rep.message = "failed", f"{type(exc).__name__}: {_one_line(exc)}"
            rep.seconds = time.monotonic() - started
            self.say(_status_line(rep))
            report.sources.append(rep)
        report.finished = utc_now()
        if not self.dry_run:
            self.state.append_run(report.as_dict())
        return report

    def _settle_journals(self) -> dict[str, dict[str, Any]]:
        """Deal with journals a killed run left: finish committed ones, remember the others."""
        found: list[tuple[int, str, SourceFiles, dict[str, Any]]] = []
        for name in self.state.source_names():
            files = self.state.source(name)
            try:
                doc = files.load_pending()
            except RuntimeError as exc:  # a torn journal cannot happen (atomic rename); a damaged disk can
                self.say(f"{name}: ignoring an unreadable journal ({_one_line(exc)})")
                continue
            if doc is not None:
                found.append((int(doc.get("log_offset", 0)), name, files, doc))
        recovered: dict[str, dict[str, Any]] = {}
        for _offset, name, files, doc in sorted(found, key=lambda item: (item[0], item[1])):
            if self.store.get_node("SourceSnapshot", doc["marker"]) is not None:
                recovered[name] = doc
                if self.dry_run:
                    self._unrecorded[name] = doc  # diff against it, as the real run will
                else:
                    self.say(f"{name}: finishing snapshot #{doc['seq']} of interrupted run {doc['run_id']}")
                    self._finish(name, files, doc)
            else:
                self._uncommitted[name] = doc
        return recovered

    def _finish(self, name: str, files: SourceFiles, doc: dict[str, Any]) -> None:
        """After the graph write committed: the change log, then the state."""
        self.state.append_log(doc["changes"], int(doc["log_offset"]), lambda: pause_point("logged", name))
        files.commit_pending()

    # ---- one source -----------------------------------------------------------------------------

    def _source(self, src: SourceConfig, rep: SourceReport) -> None:
        clock = _Clock(rep.timings)
        files = self.state.source(src.name)
        state = self._unrecorded.get(src.name) or files.load_state()
        synced = (
            state is None
            or self.store.get_node("SourceSnapshot", _marker(src.name, state["seq"])) is not None
        )
        fetched = fetch(src, files.download_dir, (state or {}).get("http"))
        clock.lap("fetch")
        pause_point("fetched", src.name)
        rep.content_hash = fetched.content_hash
        journal = self._uncommitted.pop(src.name, None)
        if state is not None and synced and fetched.content_hash == state["content_hash"]:
            if journal is not None and not self.dry_run:
                files.discard_pending()
            if rep.status != "applied":
                rep.status = "unchanged"
            rep.message = f"unchanged since {state['as_of']} (snapshot #{state['seq']})"
            rep.as_of, rep.sequence = state["as_of"], state["seq"]
            return
        prev_seq = state["seq"] if state else 0
        reuse = (
            journal
            if journal is not None
            and journal["content_hash"] == fetched.content_hash
            and journal.get("prev_seq") == prev_seq
            else None
        )
        if journal is not None and reuse is None and not self.dry_run:
            files.discard_pending()
        as_of = reuse["as_of"] if reuse else self.as_of
        run_id = reuse["run_id"] if reuse else self.run_id
        retrieved_at = reuse["retrieved_at"] if reuse else fetched.retrieved_at
        if state is not None and as_of < state["as_of"]:
            raise SourceError(
                f"as-of {as_of} is before the last applied snapshot ({state['as_of']}); "
                "snapshots must be refreshed in date order"
            )
        self.say(f"{src.name}: loading {len(fetched.paths)} file(s) as of {as_of}")
        options = LoadOptions(
            mapping=src.mapping, as_of=as_of, retrieved_at=retrieved_at, source=src.provenance_source
        )
        output = get_loader(src.format)(fetched.paths, options)
        clock.lap("load")
        pause_point("loaded", src.name)
        rep.rows_read, rep.records, rep.rejects = output.rows_read, len(output.records), output.rejects
        previous: dict[str, Any] = state["bundles"] if state else {}
        bundles = make_bundles(output.records, self.store.schema, as_of, previous if synced else None)
        diff = diff_bundles(previous, bundles, src.stable_ids) if state else Diff(added=list(bundles))
        clock.lap("diff")
        seq = prev_seq + 1
        prov = Provenance(src.provenance_source, f"refresh#{seq}", retrieved_at or as_of)
        writes = list(bundles) if not synced else diff.added + diff.changed
        facts: list[Record] = [r for ident in writes for r in bundles[ident].records]
        end_dates = self._end_dates(src, bundles, diff, as_of) if state else []
        basis = f"{prev_seq}:{state['content_hash']}" if state else "baseline"
        common = {
            "source": src.name,
            "run_id": run_id,
            "as_of": as_of,
            "previous_as_of": state["as_of"] if state else None,
        }
        closing: list[Record] = list(end_dates)
        lines = [self._event(change, basis, common, prov, closing) for change in diff.changes]
        marker = _marker(src.name, seq)
        closing.append(
            NodeRecord(
                "SourceSnapshot",
                marker,
                {
                    "source": src.name,
                    "sequence": seq,
                    "content_hash": fetched.content_hash,
                    "as_of": as_of,
                    "previous_as_of": common["previous_as_of"],
                    "run_id": run_id,
                    "records": len(output.records),
                    "changes": len(lines),
                },
                prov,
            )
        )
        clock.lap("plan")
        rep.status = "baseline" if state is None else "applied"
        rep.as_of, rep.previous_as_of, rep.run_id, rep.sequence = as_of, common["previous_as_of"], run_id, seq
        rep.bundles, rep.added, rep.changed, rep.removed = (
            len(bundles),
            len(diff.added),
            len(diff.changed),
            len(diff.removed),
        )
        rep.end_dated, rep.records_written = len(end_dates), len(facts) + len(closing)
        rep.changes = rep.changes + lines
        if not synced:
            rep.message = "the graph lacks the last applied snapshot: rewrote the whole snapshot"
        if reuse is not None:
            rep.message = f"redid snapshot #{seq} of interrupted run {run_id}"
        if self.dry_run:
            rep.status = "dry-run"
            return
        doc = {
            "source": src.name,
            "format": src.format,
            "seq": seq,
            "prev_seq": prev_seq,
            "content_hash": fetched.content_hash,
            "as_of": as_of,
            "run_id": run_id,
            "retrieved_at": retrieved_at,
            "http": fetched.validators,
            "marker": marker,
            "bundles": {ident: b.state() for ident, b in bundles.items()},
            "changes": lines,
            "log_offset": self.state.log_size(),
        }
        files.write_pending(doc)
        clock.lap("journal")
        pause_point("pending", src.name)
        paused = [False]

        def progress(_n: int) -> None:
            if not paused[0]:
                paused[0] = True
                pause_point("writing", src.name)

        self.say(
            f"{src.name}: writing {rep.records_written:,} records for {len(writes):,} of {len(bundles):,}"
        )
        whole_snapshot = state is None or not synced
        if whole_snapshot and len(facts) > self.bulk_records:
            # A whole snapshot too big for one transaction: the facts in committed batches, then the
            # end-dates, ChangeEvents and the marker in one transaction. Killed in between, no marker
            # is there and the next run writes it all again (the facts merge; nothing is duplicated).
            self.store.write(facts, atomic=False, progress=progress)
            pause_point("bulk-written", src.name)
            self.store.write(closing, atomic=True)
        else:
            self.store.write(facts + closing, atomic=True, progress=progress)
        clock.lap("write")
        pause_point("committed", src.name)
        self._finish(src.name, files, doc)
        clock.lap("log+state")

    def _event(
        self,
        change: Change,
        basis: str,
        common: dict[str, Any],
        prov: Provenance,
        records: list[Record],
    ) -> dict[str, Any]:
        key = change.key(common["source"], basis)
        props = {k: v for k, v in change.as_dict().items() if v is not None}
        props.update({k: v for k, v in common.items() if v is not None})
        props["summary"] = change.summary(common["source"])
        records.append(NodeRecord(change.entity_label, change.entity_key))
        records.append(NodeRecord("ChangeEvent", key, props, prov))
        records.append(
            EdgeRecord(
                "HAS_CHANGE", change.entity_label, change.entity_key, "ChangeEvent", key, provenance=prov
            )
        )
        return {"key": key, **props}

    def _end_dates(
        self,
        src: SourceConfig,
        current: dict[str, Bundle],
        diff: Diff,
        as_of: str,
    ) -> list[Record]:
        """Close the dated relationships the source no longer states; mark lifted sanctions.

        For every changed or vanished bundle, its open dated relationships in the graph (those it owns,
        without a ``status``, vouched for by this source alone) that the current snapshot does not
        state get ``valid_to`` = as-of. A Sanction the source no longer lists gets ``delisting_date``.
        """
        schema = self.store.schema
        lifted: set[str] = set()
        owners: dict[str, list[str]] = defaultdict(list)
        for ident in diff.changed + diff.removed:
            label, key = split_id(ident)
            owners[label].append(key)
            lifted.update(d[0] for d in diff.previous[ident].profile.get("designations", []))
        out: list[Record] = []
        if lifted:
            lifted -= {d[0] for b in current.values() for d in b.profile.get("designations", [])}
            existing = self.store.get_nodes("Sanction", sorted(lifted)) if lifted else {}
            for key in sorted(lifted):
                view = existing.get(key)
                if view is not None and not view.props.get("delisting_date"):
                    out.append(NodeRecord("Sanction", key, {"delisting_date": as_of}))
        temporal = [name for name, rel in schema.relationships.items() if rel.temporal]
        for label, keys in sorted(owners.items()):
            for direction in ("out", "in"):
                types = [
                    t
                    for t in temporal
                    if label in (schema.rel(t).sources if direction == "out" else schema.rel(t).targets)
                ]
                if not types:
                    continue
                for view in self.store.edges(label, sorted(keys), types, direction):  # type: ignore[arg-type]
                    side = owner_side(view.type, view.src_label, view.dst_label, schema)
                    if (side == 0) != (direction == "out"):
                        continue  # owned by the other end
                    if view.props.get("valid_to") is not None or "status" in view.props:
                        continue
                    if not _only_from(view.provenance, src.provenance_source):
                        continue
                    owner = bundle_id(label, view.src if direction == "out" else view.dst)
                    bundle = current.get(owner)
                    ends = (view.src_label, view.src, view.dst_label, view.dst)
                    if bundle is not None and bundle.asserts(view.type, ends, view.key):
                        continue
                    out.append(
                        EdgeRecord(
                            view.type,
                            view.src_label,
                            view.src,
                            view.dst_label,
                            view.dst,
                            view.key,
                            {"valid_to": as_of},
                        )
                    )
        return out


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Keep the cyclic garbage collector out of a source's run.

    Loader output is millions of small acyclic objects; left on, the collector rescans them again and
    again (a third of the time of a large refresh).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class _Clock:
    """Seconds per stage of a source's refresh, into ``SourceReport.timings``."""

    def __init__(self, into: dict[str, float]) -> None:
        self.into = into
        self.last = time.monotonic()

    def lap(self, stage: str) -> None:
        now = time.monotonic()
        self.into[stage] = self.into.get(stage, 0.0) + now - self.last
        self.last = now


def _only_from(provenance: list[str], source: str) -> bool:
    """True when every provenance entry is from ``source`` (no other source still vouches for the fact)."""
    for entry in provenance:
        try:
            if Provenance.decode(entry).source != source:
                return False
        except (ValueError, KeyError):
            return False
    return True


def _marker(source: str, seq: int) -> str:
    return f"{source}#{seq}"


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:500] or type(exc).__name__


def _status_line(rep: SourceReport) -> str:
    if rep.failed:
        return f"{rep.name}: FAILED: {rep.message}"
    if rep.status == "unchanged":
        extra = f"; {rep.recovered}" if rep.recovered else ""
        return f"{rep.name}: {rep.message}{extra}"
    return (
        f"{rep.name}: {rep.status}, snapshot #{rep.sequence} as of {rep.as_of}: {rep.bundles:,} entities, "
        f"{rep.added:,} new, {rep.changed:,} changed, {rep.removed:,} gone, {len(rep.changes):,} change(s) "
        f"in {rep.seconds:.1f}s"
    )
