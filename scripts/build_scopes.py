"""Derive the default schedule's HTS scope lists from the legal texts.

Writes, under data/schedule/default/:

- `sources/hts2026r6_ch99_scope_lists.txt`: the enumerated HTS lists of chapter 99 US notes
  33(b), 33(g), 38(b), 38(c) and 38(i), copied verbatim from HTS 2026 Revision 6 (only with
  `--chapter99 PATH`, the full chapter 99 text; otherwise the committed excerpt is reused);
- `scopes.csv`: `scope_id,hts_prefix,source`, from that excerpt (also the Section 122
  exemption lists of subchapter III US note 2(aa)(ii)-(iv) and the 2026 metals lists of US
  note 16(c)) and CBP's auto-parts list
  (`data/reference/section232/auto_parts_hts.txt`);
- `metal_derivatives.csv`: `hts_prefix,ch99_code,metal,effective_date`, from
  `data/reference/section232/metal_derivative_products.csv` (column `derivative_type`
  renamed `metal`; a code listed twice for the same metal, once undated and once with the
  2025-08-18 inclusions, keeps only the undated, earlier listing; rows sorted).

Overlaps between the note 33 (autos) and note 38 (medium/heavy vehicles) lists are settled
here, because the engine picks within a layer by longest prefix, then by specific origin:

- a note 38(b) vehicle code that note 33 lists *identically* (8704.60.00 in 33(b);
  8706.00.03 and 8706.00.25 in 33(g)) is left to note 33: HTS alone cannot tell a light from
  a medium/heavy electric truck, or the vehicle a chassis is for, and an exact tie would
  otherwise be decided by the line's origin (the Japan deal) rather than by the law;
- a note 38(b) code *more specific* than a note 33(g) prefix (8706.00.0520 and .0575 under
  8706.00.05, chassis for vehicles of 8701.2, 8702 and heavy 8704) stays: its longer prefix
  wins, as the legal text intends;
- a note 38(i) part code covered by a note 33(g) prefix (equal to it or inside it) is left to
  note 33 (passenger-vehicle and light-truck parts): both notes name the same articles and
  divide them by the vehicle they are for, which an entry line does not say. Note 38(i) codes
  broader than a 33(g) code (e.g. 4013.10.00 over 4013.10.0010) stay; the longer 33(g)
  prefix wins where it applies.

Run: .venv/bin/python scripts/build_scopes.py [--chapter99 PATH]
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import polars as pl

REPO_ROOT = Path(__file__).resolve().parents[1]
SCHEDULE_DIR = REPO_ROOT / "data" / "schedule" / "default"
EXCERPT = SCHEDULE_DIR / "sources" / "hts2026r6_ch99_scope_lists.txt"
AUTO_PARTS = REPO_ROOT / "data" / "reference" / "section232" / "auto_parts_hts.txt"
METAL_REFERENCE = REPO_ROOT / "data" / "reference" / "section232" / "metal_derivative_products.csv"

HTS_REV = "HTS 2026 Rev. 6, ch. 99"

# (section key, text that opens the note, start of the subdivision, start of the next one)
SECTIONS: list[tuple[str, str, str, str]] = [
    ("note33_b", r"^33\. \(a\)", r"^\s*\(b\) The rates of duty set forth in headings 9903\.94\.01",
     r"^\s*\(c\) Heading 9903\.94\.02"),
    ("note33_g", r"^33\. \(a\)", r"^\s*\(g\) Subject to a manufacturer's import adjustment",
     r"^\s*\(h\) Heading 9903\.94\.06"),
    ("note38_b", r"^38\.\s*$", r"^\s*\(b\) The rate of duty set forth in heading 9903\.74\.01",
     r"^\s*\(c\) Heading 9903\.74\.02"),
    ("note38_c", r"^38\.\s*$", r"^\s*\(c\) Heading 9903\.74\.02",
     r"^\s*\(d\) Heading 9903\.74\.03"),
    ("note38_i", r"^38\.\s*$", r"^\s*\(i\) The rates of duty set forth in heading 9903\.74\.08",
     r"^\s*\(j\) Heading 9903\.74\.09"),
    # Section 122 exemptions, subchapter III US note 2(aa)
    ("note2aa_ii", r"^\s*\(i\) Except as provided in headings 9903\.03\.02",
     r"^\(ii\) As provided in heading 9903\.03\.03", r"^\(iii\) As provided in heading 9903\.03\.04"),
    ("note2aa_iii", r"^\s*\(i\) Except as provided in headings 9903\.03\.02",
     r"^\(iii\) As provided in heading 9903\.03\.04", r"^\(iv\) As provided in heading 9903\.03\.05"),
    ("note2aa_iv", r"^\s*\(i\) Except as provided in headings 9903\.03\.02",
     r"^\(iv\) As provided in heading 9903\.03\.05", r"^\(v\) As provided in heading 9903\.03\.06"),
]
# sections whose codes stand inside sentences ("(classifiable in subheading 0805.90.01)"):
# every line is kept and every HTS number in it is read
PROSE_SECTIONS = {"note2aa_iii"}
PROSE_CODE = re.compile(r"\b\d{4}\.\d{2}\.\d{2}\b")
PAGE_HEADER = "U.S. Notes (con.)"


# US note 16(c) to subchapter III (the 2026 metals regime, headings 9903.82.02-.19): ten lists,
# each opened by a label such as "(iv) Derivative steel articles:" that may share a line with
# the first codes; read from "(c) Headings 9903.82.02" to "(d) Headings 9903.82.04"
NOTE16_START = re.compile(r"^\s*\(c\) Headings 9903\.82\.02")
NOTE16_END = re.compile(r"^\s*\(d\) Headings 9903\.82\.04")
NOTE16_LABEL = re.compile(r"\((i|ii|iii|iv|v|vi|vii|viii|ix|x)\) (Articles of [a-z]+|Derivative [a-z]+ articles):")
# heading of each group of note 16(c) lists: (i)-(v) 9903.82.02 (+50%), (vi)-(viii) 9903.82.09
# (+25%), (ix)-(x) 9903.82.10/.11 (15% total)
NOTE16_GROUPS = {
    "s232_metals_2026_50": (("i", "ii", "iii", "iv", "v"), "9903.82.02"),
    "s232_metals_2026_25": (("vi", "vii", "viii"), "9903.82.09"),
    "s232_metals_2026_15": (("ix", "x"), "9903.82.10"),
}
METAL_CHAPTERS_2026 = ("72", "73", "74", "76")

SECTION_HEADER = re.compile(r"^=== (\w+) ===$")
CODE = re.compile(r"^\d{4}(\.\d{2}(\.\d{2}(\d{2})?)?)?$")


def extract_sections(chapter99_text: str) -> dict[str, list[str]]:
    """The verbatim lines of each listed subdivision: its opening sentence and its code table.

    Raises ValueError if a note or subdivision cannot be found (a new HTS revision that
    renumbered them must be read by a person).
    """
    lines = chapter99_text.splitlines()
    out: dict[str, list[str]] = {}
    for key, note_re, start_re, end_re in SECTIONS:
        note_at = _first_match(lines, note_re, 0, key)
        start = _first_match(lines, start_re, note_at, key)
        end = _first_match(lines, end_re, start + 1, key)
        body = [ln.replace(PAGE_HEADER, "") for ln in lines[start + 1 : end]]
        if key in PROSE_SECTIONS:
            kept = [lines[start]] + [ln for ln in body if PROSE_CODE.search(ln)]
        else:
            kept = [lines[start]] + [ln for ln in body if _is_code_row(ln)]
        out[key] = [ln.rstrip() for ln in kept]
    return out


def extract_note16(chapter99_text: str) -> dict[str, list[str]]:
    """The code rows of the ten lists of US note 16(c), labels and page headers removed, as
    sections `note16c_<roman>` (the label line first)."""
    lines = chapter99_text.splitlines()
    start = next((i for i, ln in enumerate(lines) if NOTE16_START.search(ln)), None)
    if start is None:
        raise ValueError("note16: no line opening subdivision (c) of US note 16")
    end = _first_match(lines, NOTE16_END.pattern, start + 1, "note16")
    out: dict[str, list[str]] = {}
    current: str | None = None
    for line in lines[start:end]:
        line = line.replace(PAGE_HEADER, "")
        label = NOTE16_LABEL.search(line)
        if label:
            current = f"note16c_{label.group(1)}"
            out[current] = [label.group(0)]
            line = line[: label.start()] + line[label.end():]
            line = line.split("[Compiler")[0]
        if current is not None and _is_code_row(line):
            out[current].append(" ".join(line.split()))
    return out


def _first_match(lines: list[str], pattern: str, after: int, key: str) -> int:
    regex = re.compile(pattern)
    for i in range(after, len(lines)):
        if regex.search(lines[i]):
            return i
    raise ValueError(f"{key}: no line matching {pattern!r} after line {after + 1}")


def _is_code_row(line: str) -> bool:
    tokens = line.split()
    return bool(tokens) and all(CODE.match(t) for t in tokens)


def render_excerpt(sections: dict[str, list[str]], source_name: str) -> str:
    head = (
        f"# Verbatim excerpt of {HTS_REV} (file {source_name}; Budget-Lab-Yale/tariff-rate-tracker\n"
        "# @394ca80, data/us_notes/chapter99_2026_rev_6.txt): the opening line and the HTS code\n"
        "# table of US notes 33(b), 33(g), 38(b), 38(c), 38(i). Written by scripts/build_scopes.py.\n"
    )
    body = "".join(f"=== {key} ===\n" + "\n".join(rows) + "\n" for key, rows in sections.items())
    return head + body


def parse_excerpt(text: str) -> dict[str, list[str]]:
    """Section key -> HTS codes (digits only, in the order listed)."""
    out: dict[str, list[str]] = {}
    current: str | None = None
    for line in text.splitlines():
        header = SECTION_HEADER.match(line)
        if header:
            current = header.group(1)
            out[current] = []
        elif current in PROSE_SECTIONS:
            # (chapter 99 headings in the opening sentence are not goods)
            out[current].extend(c.replace(".", "") for c in PROSE_CODE.findall(line) if not c.startswith("9903"))
        elif current is not None and _is_code_row(line):
            out[current].extend(t.replace(".", "") for t in line.split())
    return out


def _covered_by(code: str, prefixes: set[str]) -> bool:
    return any(code.startswith(p) for p in prefixes)


def build_scopes(lists: dict[str, list[str]], auto_parts: list[str]) -> pl.DataFrame:
    """scopes.csv rows from the note lists and CBP's auto-parts list (see module docstring)."""
    if sorted(lists["note33_g"]) != sorted(auto_parts):
        missing = sorted(set(lists["note33_g"]) ^ set(auto_parts))
        raise ValueError(f"US note 33(g) and CBP's auto-parts list differ on {missing}")
    note33_vehicles = set(lists["note33_b"])
    note33_parts = set(auto_parts)
    note33_all = note33_vehicles | note33_parts
    mhd_vehicles = [c for c in lists["note38_b"] if c not in note33_all]
    mhd_parts = [c for c in lists["note38_i"] if not _covered_by(c, note33_parts)]
    metals_2026 = {
        scope: [c for roman in romans for c in lists[f"note16c_{roman}"]] for scope, (romans, _h) in NOTE16_GROUPS.items()
    }
    listed_2026 = sorted({c for codes in metals_2026.values() for c in codes})
    scopes = [
        ("note33b_vehicles", lists["note33_b"], f"{HTS_REV} US note 33(b)"),
        ("s232_auto_parts", auto_parts,
         "CBP CSMS #64916652 attachment 2 (data/reference/section232/auto_parts_hts.txt) "
         f"= {HTS_REV} US note 33(g)"),
        ("s232_mhd_vehicles", mhd_vehicles,
         f"{HTS_REV} US note 38(b), less codes note 33(b)/(g) list identically"),
        ("s232_buses", lists["note38_c"], f"{HTS_REV} US note 38(c)"),
        ("s232_mhd_parts", mhd_parts,
         f"{HTS_REV} US note 38(i), less codes within a note 33(g) prefix"),
        ("s122_note2aa_ii", lists["note2aa_ii"], f"{HTS_REV} subchapter III US note 2(aa)(ii), heading 9903.03.03"),
        ("s122_note2aa_iii", lists["note2aa_iii"], f"{HTS_REV} subchapter III US note 2(aa)(iii), heading 9903.03.04"),
        ("s122_civil_aircraft", lists["note2aa_iv"], f"{HTS_REV} subchapter III US note 2(aa)(iv), heading 9903.03.05"),
        ("metal_chapters_72_73_76", ["72", "73", "76"],
         f"{HTS_REV} US note 33(p) and note 38(j)(i): certified parts exclude articles of chapters 72, 73 and 76"),
        *[
            (scope, list(dict.fromkeys(codes)),
             f"{HTS_REV} subchapter III US note 16(c)({')-('.join(NOTE16_GROUPS[scope][0])}), heading {NOTE16_GROUPS[scope][1]}")
            for scope, codes in metals_2026.items()
        ],
        ("s232_metals_2026_weight_rule", [c for c in listed_2026 if not c.startswith(METAL_CHAPTERS_2026)],
         f"{HTS_REV} US note 16(c), heading 9903.82.03: listed articles outside chapters 72, 73, 74, 76"),
    ]
    return pl.DataFrame(
        [{"scope_id": s, "hts_prefix": p, "source": src} for s, codes, src in scopes for p in codes],
        schema={"scope_id": pl.Utf8, "hts_prefix": pl.Utf8, "source": pl.Utf8},
    )


def build_metal_derivatives(reference_csv: Path) -> pl.DataFrame:
    """The Section 232 steel/aluminum derivative list in the schedule's column names."""
    return (
        pl.read_csv(reference_csv, infer_schema=False)
        .rename({"derivative_type": "metal"})
        .select("hts_prefix", "ch99_code", "metal", "effective_date")
        .sort("hts_prefix", "metal", "effective_date", nulls_last=False)
        .unique(subset=["hts_prefix", "metal"], keep="first", maintain_order=True)
        .sort("hts_prefix", "metal")
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chapter99", type=Path,
                        help="full HTS chapter 99 text (cp1252) to refresh the committed excerpt from")
    args = parser.parse_args(argv)
    if args.chapter99 is not None:
        text = args.chapter99.read_text(encoding="cp1252")
        sections = extract_sections(text) | extract_note16(text)
        EXCERPT.parent.mkdir(parents=True, exist_ok=True)
        EXCERPT.write_text(render_excerpt(sections, args.chapter99.name), encoding="utf-8")
    lists = parse_excerpt(EXCERPT.read_text(encoding="utf-8"))
    auto_parts = AUTO_PARTS.read_text(encoding="utf-8").split()
    scopes = build_scopes(lists, auto_parts)
    scopes.write_csv(SCHEDULE_DIR / "scopes.csv")
    build_metal_derivatives(METAL_REFERENCE).write_csv(SCHEDULE_DIR / "metal_derivatives.csv")
    counts = scopes.group_by("scope_id", maintain_order=True).len()
    for scope_id, n in counts.iter_rows():
        print(f"{scope_id}: {n} prefixes")


if __name__ == "__main__":
    main()
