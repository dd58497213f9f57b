"""Writing a prescription: Markdown, a self-contained HTML page (figures embedded), JSON and the figures.

Everything goes into a temporary sibling folder first and is moved into place at the end (an existing output
folder is replaced), so a failure never leaves a half-written folder. The HTML page is rendered from the same
Markdown text (a small renderer for the subset written here: headings, paragraphs, block quotes, bullet
lists, tables, images, ``**bold**`` and ``code``), with every figure embedded as base64.
"""

from __future__ import annotations

import base64
import html
import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from eihlab._atomic import atomic_folder
from eihlab.prescribe.candidates import therapist_units
from eihlab.prescribe.optimise import CI, FATIGUE_LIMIT, MAX_EXHAUSTED, MAX_PAINFUL, MDC_PCT
from eihlab.prescribe.pipeline import Prescription, as_json, predicted_eih, training_effect
from eihlab.prescribe.screening import DISCLAIMER_BODY, DISCLAIMER_HEAD, ordinal
from eihlab.prescribe.simulate import POST_MIN

_STYLE = (
    "body{font-family:sans-serif;max-width:1000px;margin:auto;color:#222;line-height:1.4}"
    "table{border-collapse:collapse;font-size:13px;margin:6px 0}td,th{border:1px solid #ccc;padding:3px 6px;"
    "vertical-align:top}blockquote{border-left:4px solid #b3261e;background:#fdf0ef;margin:8px 0;"
    "padding:6px 12px}img{max-width:100%;margin:6px 0}code{background:#f3f3f3;padding:0 3px}"
)


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _intensity_text(units: dict[str, Any]) -> str:
    text = f"{units['value']:g} {units['unit']} ({units['category']}"
    if units.get("target_hr_bpm"):
        lo, hi = units["target_hr_bpm"]
        text += f"; target heart rate {lo}–{hi} bpm by Karvonen"
    lo_r, hi_r = units["rpe"]
    text += f"; RPE {lo_r:g}–{hi_r:g} on the Borg 6–20 scale)"
    return text


def _pct(x: float) -> str:
    return f"{x:+.1f} %"


# ------------------------------------------------------------------------------------------------ figures
def write_figures(rx: Prescription, out: Path) -> list[Path]:
    """``options.png``, ``dose_response.png``, ``programme.png`` and ``screening.png`` into ``out``."""
    plt = _pyplot()
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    opt = rx.optimiser

    # 1. every candidate's best feasible dose: predicted EIH at the painful and remote sites
    feasible = [s for s in rx.searches if s.best is not None]
    if feasible:
        fig, ax = plt.subplots(figsize=(8, 0.45 * len(feasible) + 1.6))
        try:
            y = np.arange(len(feasible))[::-1]
            for k, (role, color) in enumerate((("painful", "#b3261e"), ("remote", "#1f5aa6"))):
                means, los, his = [], [], []
                for s in feasible:
                    assert s.best is not None
                    sites = [opt.remote_site] if role == "remote" else list(opt.painful_sites)
                    vals = np.mean([s.best.eih[site] for site in sites], axis=0)
                    m, lo, hi = opt.interval(vals)
                    means.append(m)
                    los.append(m - lo)
                    his.append(hi - m)
                label = (
                    "remote site"
                    if role == "remote"
                    else ("painful site(s)" if rx.patient.painful_regions() else "test site")
                )
                ax.barh(
                    y + (0.2 if k == 0 else -0.2), means, 0.38, xerr=[los, his], color=color, alpha=0.8, label=label
                )
            ax.set_yticks(y, [f"{s.candidate.label} ({s.candidate.role})" for s in feasible], fontsize=8)
            ax.axvline(0, color="k", lw=0.8)
            ax.set_xlabel(f"predicted PPT change {POST_MIN:g} min after the session, % (bars: 5–95 %)")
            ax.set_title("Best safe dose of each option")
            ax.legend(fontsize=8, loc="lower right")
            fig.tight_layout()
            written.append(out / "options.png")
            fig.savefig(written[-1], dpi=110)
        finally:
            plt.close(fig)

    # 2. dose-response of the listed options at the chosen volume (grid), with flare risk
    if rx.options:
        k = len(rx.options)
        cols = min(k, 3)
        rows = (k + cols - 1) // cols
        fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 3.0 * rows), squeeze=False)
        try:
            for ax in axes.ravel()[k:]:
                ax.axis("off")
            for ax, o in zip(axes.ravel(), rx.options, strict=False):
                grid = sorted((e for e in o.search.grid if e.volume == o.best.volume), key=lambda e: e.value)
                xs = [e.value for e in grid]
                ax.plot(xs, [e.objective for e in grid], "-", color="#1f5aa6")
                for e in grid:
                    face = "#1f5aa6" if e.feasible else "white"
                    ax.plot([e.value], [e.objective], "o", color="#1f5aa6", mfc=face)
                ax.plot([o.best.value], [o.best.objective], "*", color="#17692d", ms=14)
                ax.set_xlabel(f"{o.candidate.unit} ({o.candidate.describe_volume(o.best.volume)})", fontsize=8)
                ax.set_ylabel("predicted EIH, %")
                ax.set_title(f"{o.rank}. {o.candidate.label}", fontsize=9)
                ax2 = ax.twinx()
                ax2.plot(xs, [100 * e.flare for e in grid], "s--", color="#b3261e", ms=4)
                ax2.axhline(100 * rx.max_flare_risk, color="#b3261e", lw=0.8, ls=":")
                ax2.set_ylim(0, 100)
                ax2.set_ylabel("flare risk, %", color="#b3261e")
            fig.suptitle("Grid of the search (open circles: outside a safety limit; star: chosen dose)", fontsize=9)
            fig.tight_layout()
            written.append(out / "dose_response.png")
            fig.savefig(written[-1], dpi=110)
        finally:
            plt.close(fig)

        # 3. the 12-week programme: resting PPT change at the painful sites
        fig, ax = plt.subplots(figsize=(6.5, 3.6))
        try:
            for o in rx.options:
                weeks = sorted({wk for (_, wk) in o.programme.change})
                means, los, his = [0.0], [0.0], [0.0]
                for wk in weeks:
                    vals = np.mean([o.programme.change[(s, wk)] for s in opt.painful_sites], axis=0)
                    m, lo, hi = opt.interval(vals)
                    means.append(m)
                    los.append(lo)
                    his.append(hi)
                xs = [0, *weeks]
                line = ax.plot(xs, means, "o-", label=f"{o.rank}. {o.candidate.label}")[0]
                ax.fill_between(xs, los, his, color=line.get_color(), alpha=0.12)
            ax.axhline(0, color="k", lw=0.8)
            ax.set_xlabel("week")
            ax.set_ylabel("resting PPT change, %")
            ax.set_title("Predicted training effect at the painful/test sites (bands: 5–95 %)", fontsize=9)
            ax.legend(fontsize=7)
            fig.tight_layout()
            written.append(out / "programme.png")
            fig.savefig(written[-1], dpi=110)
        finally:
            plt.close(fig)

    # 4. screening: CPM and EIH among healthy peers
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.2))
    try:
        for ax, t in zip(axes, (rx.screening.cpm, rx.screening.eih), strict=True):
            ax.hist(t.reference, bins=25, color="#999", alpha=0.8)
            ax.axvline(t.value, color="#b3261e", lw=2)
            ax.set_title(f"{t.name}: {t.value:.1f} {t.unit}, {ordinal(t.percentile)} ({t.status})", fontsize=9)
            ax.set_xlabel(f"{t.name}, {t.unit} ({t.source})")
            ax.set_yticks([])
        fig.suptitle("Healthy peers of the same age and sex", fontsize=9)
        fig.tight_layout()
        written.append(out / "screening.png")
        fig.savefig(written[-1], dpi=110)
    finally:
        plt.close(fig)
    return written


# ----------------------------------------------------------------------------------------------- markdown
def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return lines


def markdown(rx: Prescription, figures: list[str]) -> str:
    """The report as Markdown (figures linked relative to the report)."""
    p, c, s = rx.patient, rx.cohort, rx.screening
    lines: list[str] = [
        f"# Exercise prescription: {p.name}",
        "",
        f"> **{DISCLAIMER_HEAD}** {DISCLAIMER_BODY}",
        "",
        "## Patient",
        "",
    ]
    painful = ", ".join(rx.painful_sites) if p.painful_regions() else "none"
    lines += _table(
        ["field", "value"],
        [
            ["age, sex", f"{p.age_y:g} y, {p.sex}"],
            ["condition", p.condition.replace("_", " ")],
            ["painful regions", ", ".join(p.painful_regions()) or "none"],
            ["painful sites (predicted)", painful],
            ["remote site (predicted)", rx.remote_site],
            ["pain intensity", "not stated" if p.pain_intensity is None else f"{p.pain_intensity:g}/10"],
            ["activity level", p.activity_level],
            [
                "heart rate",
                f"rest {p.hr_rest_bpm:g} bpm, max {p.hr_max_bpm:.0f} bpm"
                + ("" if p.hr_max is not None else " (Tanaka, 208 − 0.7·age)"),
            ],
            ["planned surgery", "yes" if p.planned_surgery else "no"],
        ],
    )
    lines += ["", "## Screening", ""]
    for t in (s.cpm, s.eih):
        lines.append(
            f"- **{t.name}**: {t.value:.1f} {t.unit} ({t.source}) — {ordinal(t.percentile)} of healthy peers "
            f"of the same age and sex: **{t.status}**. Test: {t.protocol}."
        )
    lines += [f"- {a}" for a in s.advice]
    if s.perioperative:
        lines += ["", "### Peri-operative advice (review §5b)", ""]
        lines += [f"- {a}" for a in s.perioperative]
    lines += ["", "Evidence: " + "; ".join(f"`{e['id']}` ({e['ref']}: {e['shows']})" for e in s.evidence), ""]
    if "screening.png" in figures:
        lines += ["![screening](figures/screening.png)", ""]

    lines += ["## Recommended options", ""]
    if not rx.options:
        lines += ["No option met the safety limits for this patient.", ""]
    for o in rx.options:
        cand, e = o.candidate, o.best
        units = therapist_units(cand, e.value, p)
        lines += [
            f"### {o.rank}. {cand.label} — {cand.role} ({cand.region.replace('_', ' ')})",
            "",
            f"- **Dose**: {_intensity_text(units)}; {cand.describe_volume(e.volume)}"
            f" ({cand.dose(e.volume).session_minutes:.1f} min per session); "
            f"{o.phases[0].sessions_per_week} sessions per week for weeks 1–4.",
            f"- **Predicted flare risk**: {e.flare:.0%} of virtual patients (limit {rx.max_flare_risk:.0%}); beyond "
            f"the pain range: {e.painful:.0%}; near exhaustion: {e.exhausted:.0%}.",
            "",
            f"Predicted EIH ({POST_MIN:g} min after the session; mean and the range of 90 % of the virtual patients):",
            "",
        ]
        lines += _table(
            ["site", "role", "PPT change", "90 % range"],
            [
                [x["site"], x["role"], _pct(x["change"]), f"{x['ci_low']:+.1f} to {x['ci_high']:+.1f} %"]
                for x in predicted_eih(rx, e)
            ],
        )
        lines += ["", "12-week progression (each step taken only if it stays within the safety limits):", ""]
        rows = []
        for ph in o.phases:
            u = therapist_units(cand, ph.value, p)
            rows.append(
                [
                    f"{ph.weeks[0]}–{ph.weeks[1]}",
                    _intensity_text(u),
                    cand.describe_volume(ph.volume),
                    str(ph.sessions_per_week),
                    ph.note or "",
                ]
            )
        lines += _table(["weeks", "intensity", "volume", "sessions/week", "note"], rows)
        eff = [x for x in training_effect(rx, o.programme) if x["week"] == 12]
        lines += [
            "",
            "Predicted change of resting PPT after 12 weeks: "
            + "; ".join(
                f"{x['site']} ({x['role']}) {_pct(x['change'])} (90 %: {x['ci_low']:+.1f} to {x['ci_high']:+.1f})"
                for x in eff
            )
            + ".",
            "",
        ]
        relied = [m for m in o.mechanisms if m.relied_on]
        lines.append(
            "**Mechanisms** (model knock-outs; EIH without each): "
            + "; ".join(
                f"{'**' if m.relied_on else ''}{m.edge}{'**' if m.relied_on else ''} {m.mechanism}: "
                f"{m.eih_without:+.1f} % ({-m.drop:+.1f})"
                for m in o.mechanisms
            )
            + ". "
            + (
                "Relies on: " + ", ".join(m.edge for m in relied) + "."
                if relied
                else "No single mechanism removes most of the effect."
            )
        )
        lines += ["", "**Evidence**:", ""]
        for ev in o.evidence:
            flag = " — *the model fails this entry (see `eihlab evidence run`)*" if ev["model"] else ""
            lines.append(f"- `{ev['id']}` ({ev['ref']}): {ev['shows']}{flag}")
        lines.append("")
    for name, alt in (("dose_response.png", "dose-response"), ("programme.png", "programme")):
        if name in figures:
            lines += [f"![{alt}](figures/{name})", ""]

    if rx.others:
        lines += ["## Also within the safety limits (ranked lower)", ""]
        lines += _table(
            ["option", "region", "dose", "predicted EIH", "flare risk"],
            [
                [
                    s.candidate.label,
                    s.candidate.role,
                    f"{s.best.value:g} {s.candidate.unit}, {s.candidate.describe_volume(s.best.volume)}",
                    _pct(s.best.objective),
                    f"{s.best.flare:.0%}",
                ]
                for s in rx.others
                if s.best is not None
            ],
        )
        lines.append("")
    if rx.excluded:
        lines += ["## Not recommended", ""]
        lines += _table(
            ["option", "region", "why (at its gentlest dose)"],
            [[s.candidate.label, s.candidate.role, s.reason] for s in rx.excluded],
        )
        lines.append("")
    if "options.png" in figures:
        lines += ["![options](figures/options.png)", ""]

    fits = "; ".join(
        f"{f['measure']}: observed {f['observed']:g} {f['unit']}, virtual patients {f['predicted']:.1f} "
        f"({f['p05']:.1f} to {f['p95']:.1f})"
        for f in (x.summary(c.weights) for x in c.fits)
    )
    lines += [
        "## How this was computed",
        "",
        f"- {c.n} virtual patients of this condition, age and sex (seed {rx.seed})"
        + (
            f", kept from {c.prior_n} by approximate Bayesian computation on the measurements (tolerance "
            f"{c.tolerance:.2g}, effective sample size {c.ess:.0f}). Fit: {fits}."
            if c.fits
            else "; no measurements, so every virtual patient weighs the same."
        ),
        f"- Predicted EIH: weighted mean % change of PPT {POST_MIN:g} min after the session; ranges are the "
        f"{int(CI[0] * 100)}th–{int(CI[1] * 100)}th weighted percentiles across the virtual patients. Objective: "
        "the mean of the painful sites' EIH and the remote site's EIH.",
        f"- Safety limits: flare risk (PPT at a painful site falling by more than {MDC_PCT:g} % right after the "
        f"session or the next day) at most {rx.max_flare_risk:.0%}; on painful regions at most {MAX_PAINFUL:.0%} "
        f"of virtual patients beyond their pain range; at most {MAX_EXHAUSTED:.0%} reaching "
        f"{FATIGUE_LIMIT:.0%} of their work capacity (no exercise to exhaustion).",
        "- Training effects (12 weeks) come from the model's slow states (cytokines, macrophages, descending "
        "systems), which the evidence constrains less than acute EIH: read them as a ranking of programmes, not "
        "as expected magnitudes.",
        f"- Search: a coarse grid of intensities × volumes per option, then a bounded Brent refinement of the "
        f"intensity; {rx.optimiser.evaluations} doses simulated in {rx.seconds:.1f} s.",
    ]
    lines += [f"- Note: {n}" for n in rx.notes]
    lines.append("")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------- HTML
def _inline(text: str) -> str:
    out = html.escape(text, quote=False)
    out = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", out)
    out = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"<i>\1</i>", out)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", out)


def to_html(md: str, figures: dict[str, Path], title: str) -> str:
    """Render the Markdown subset of :func:`markdown` as a self-contained HTML page."""
    body: list[str] = []
    lines = md.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        m = re.match(r"^(#{1,4}) (.*)$", line)
        if m:
            level = len(m.group(1))
            body.append(f"<h{level}>{_inline(m.group(2))}</h{level}>")
            i += 1
            continue
        img = re.match(r"^!\[(.*)\]\((.*)\)$", line)
        if img:
            path = figures.get(Path(img.group(2)).name)
            if path is not None:
                data = base64.b64encode(path.read_bytes()).decode()
                body.append(f"<img alt='{html.escape(img.group(1))}' src='data:image/png;base64,{data}'>")
            i += 1
            continue
        if line.startswith("> "):
            body.append(f"<blockquote>{_inline(line[2:])}</blockquote>")
            i += 1
            continue
        if line.startswith("|"):
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                rows.append(lines[i])
                i += 1
            cells = [[c.strip() for c in r.strip("|").split("|")] for r in rows if not re.match(r"^\|[-|]+\|$", r)]
            head = "".join(f"<th>{_inline(c)}</th>" for c in cells[0])
            rest = "".join("<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in r) + "</tr>" for r in cells[1:])
            body.append(f"<table><tr>{head}</tr>{rest}</table>")
            continue
        if line.startswith("- "):
            items = []
            while i < len(lines) and lines[i].startswith("- "):
                items.append(f"<li>{_inline(lines[i][2:])}</li>")
                i += 1
            body.append(f"<ul>{''.join(items)}</ul>")
            continue
        para = []
        while i < len(lines) and lines[i].strip() and not re.match(r"^(#|> |\||- |!\[)", lines[i]):
            para.append(lines[i])
            i += 1
        body.append(f"<p>{_inline(' '.join(para))}</p>")
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )


def _plain(obj: Any) -> Any:
    if isinstance(obj, np.floating | float):
        f = float(obj)
        return f if np.isfinite(f) else None
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def to_json_text(rx: Prescription) -> str:
    """The JSON of :func:`eihlab.prescribe.pipeline.as_json` as text."""
    return json.dumps(as_json(rx), indent=1, default=_plain, ensure_ascii=False)


def write_report(rx: Prescription, out: Path) -> list[Path]:
    """Write ``prescription.md``, ``prescription.html``, ``prescription.json`` and ``figures/`` into ``out``."""
    out = Path(out)
    with atomic_folder(out) as tmp:
        figures = write_figures(rx, tmp / "figures")
        md = markdown(rx, [f.name for f in figures])
        (tmp / "prescription.md").write_text(md, encoding="utf-8")
        page = to_html(md, {f.name: f for f in figures}, f"eihlab prescription: {rx.patient.name}")
        (tmp / "prescription.html").write_text(page, encoding="utf-8")
        (tmp / "prescription.json").write_text(to_json_text(rx), encoding="utf-8")
    return sorted(out.rglob("*"))


__all__ = ["markdown", "to_html", "to_json_text", "write_figures", "write_report"]
