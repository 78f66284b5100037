"""Generate the embedded SYNTHETIC sample inputs: data/sample/customs_lines.parquet and
data/sample/vehicles.parquet (run with `make sample`).

Deterministic (fixed seed, no network). The HS10 mix is drawn from the real 2024 US imports
from Japan (data/reference/census/japan_2024_hs10_imports.parquet, CON_VAL_YR) restricted to
cars, trucks, motorcycles and auto parts whose HTS8 is in the USITC tariff database extract.
Everything else (entries, values, vehicles, VINs, declared duty) is invented; see the README
written next to the files.

Every column is written as text (money with exactly two decimals), like a raw CSV export: the
loader reads inputs as text and validates them.
"""

from __future__ import annotations

import calendar
import datetime as dt
import random
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import polars as pl

REPO_ROOT = Path(__file__).resolve().parents[1]
REFERENCE = REPO_ROOT / "data" / "reference"
OUT_DIR = REPO_ROOT / "data" / "sample"

SEED = 20250101
FIRST_MONTH = (2025, 1)
LAST_MONTH = (2026, 10)
LINES_PER_MONTH = (2300, 2700)  # target good lines per month, drawn uniformly
BAD_ROWS_PER_MONTH = 5  # about 0.2 % of the lines

CENT = Decimal("0.01")

# Share of LINES by category (the value mix inside each category follows Census 2024).
CATEGORY_SHARE = {
    "car": 0.30,  # 8703 passenger vehicles (one vehicles.parquet row per vehicle)
    "light_truck": 0.02,  # 8704 GVW <= 5 t (vehicles.parquet rows too)
    "truck": 0.02,  # other 8704: medium/heavy trucks, cab chassis, dumpers
    "part_232": 0.44,  # on CBP's Section 232 auto-parts list
    "part_other": 0.16,  # other chapter 40/84/85/87 parts
    "motorcycle": 0.06,  # 8711
}
# Other origins appear on parts and motorcycle lines only (vehicle lines need Japanese VINs).
OTHER_ORIGINS = {"DE": 0.03, "KR": 0.03, "MX": 0.02}

# Parts outside the 232 list that a Japanese auto supplier ships (HS prefixes, chapters
# 40/84/85/87); codes on the 232 list are removed from this group.
OTHER_PART_PREFIXES = (
    "401693", "401699", "8409", "8413", "8414", "8415", "8421", "8481", "8482", "8483",
    "8511", "8512", "8536", "8539", "8544", "8708", "8714",
)
LIGHT_TRUCK_HS6 = ("870421", "870431", "870441", "870451", "870460")

# Section 232 autos scope, US note 33(b) (HTS8 or HTS6 prefixes), used only for the
# broker-declared duty column below.
S232_VEHICLE_PREFIXES = (
    "87032201", "87032301", "87032401", "87033101", "87033201", "87033301", "870340",
    "870350", "870360", "870370", "870380", "87039001", "87042101", "87043101", "870441",
    "870451", "870460",
)

VESSEL_PORTS = ["2704", "2709", "1001", "4601", "1303", "1401", "1803", "5301", "3001", "3002"]
VESSEL_PORT_WEIGHTS = [22, 14, 8, 6, 12, 6, 10, 8, 6, 8]
AIR_PORTS = ["2720", "4701", "3901", "5501"]
TRUCK_PORTS = ["2304", "2402"]  # Laredo, El Paso (Mexican-origin parts)


@dataclass(frozen=True)
class Model:
    make: str
    model: str
    hs6: str
    vehicle_class: str
    propulsion: str
    engine_cc: int | None
    gvw_kg: tuple[int, int]
    msrp_usd: tuple[int, int]
    wmi: str


# Synthetic catalogue of Japanese-built models. Engine size, propulsion and GVW put each model
# in the HTS6 subheading given (8703.22 = spark ignition 1,000-1,500 cc, .23 = 1,500-3,000 cc,
# .24 = over 3,000 cc, .31/.32/.33 diesel by cc, .40 hybrid, .50 diesel hybrid, .60 plug-in
# hybrid, .80 only electric motor (battery or fuel cell: CBP ruling NY N299331);
# 8704.21 diesel <= 5 t, .31 spark <= 5 t, .51 spark hybrid <= 5 t, .60 electric).
# WMI codes are real (data/reference/vpic/wmi_manufacturers.csv). The GR86 carries Subaru's
# JF1 WMI as the real car does (built by Subaru), so its maker_from_wmi differs from its make.
CATALOGUE = [
    Model("Toyota", "Camry", "870340", "passenger", "hybrid", 2487, (1600, 1700), (28400, 37000), "JTD"),
    Model("Toyota", "Prius", "870340", "passenger", "hybrid", 1987, (1400, 1500), (28500, 36500), "JTD"),
    Model("Toyota", "Prius Prime", "870360", "passenger", "plug_in_hybrid", 1987, (1550, 1650), (33500, 40000), "JTD"),
    Model("Toyota", "RAV4", "870323", "passenger", "petrol", 2487, (2000, 2100), (29000, 38000), "JTM"),
    Model("Toyota", "RAV4 Hybrid", "870340", "passenger", "hybrid", 2487, (2100, 2200), (32000, 41000), "JTM"),
    Model("Toyota", "RAV4 Prime", "870360", "passenger", "plug_in_hybrid", 2487, (2300, 2400), (43000, 48000), "JTM"),
    Model("Toyota", "bZ4X", "870380", "passenger", "electric", None, (2400, 2500), (37000, 46000), "JTM"),
    Model("Toyota", "Land Cruiser", "870340", "passenger", "hybrid", 2393, (2900, 3100), (57000, 70000), "JTE"),
    Model("Toyota", "4Runner", "870323", "passenger", "petrol", 2393, (2600, 2800), (40700, 55000), "JTE"),
    Model("Toyota", "Mirai", "870380", "passenger", "fuel_cell", None, (2400, 2450), (51000, 67000), "JTD"),
    Model("Toyota", "Land Cruiser 70", "870333", "passenger", "diesel", 4461, (3000, 3300), (55000, 65000), "JTE"),
    Model("Toyota", "GR86", "870323", "passenger", "petrol", 2387, (1650, 1750), (29300, 34000), "JF1"),
    Model("Toyota", "Tacoma", "870431", "goods", "petrol", 2393, (2600, 2900), (31500, 45000), "JT4"),
    Model("Toyota", "Tacoma i-FORCE MAX", "870451", "goods", "hybrid", 2393, (2800, 3000), (47000, 60000), "JT4"),
    Model("Toyota", "Hilux", "870421", "goods", "diesel", 2755, (2800, 3200), (35000, 45000), "JT4"),
    Model("Lexus", "RX 350", "870323", "passenger", "petrol", 2393, (2500, 2600), (50000, 62000), "JTJ"),
    Model("Lexus", "LX 600", "870324", "passenger", "petrol", 3445, (3200, 3300), (92000, 110000), "JTJ"),
    Model("Lexus", "GX 550", "870324", "passenger", "petrol", 3445, (3000, 3100), (65000, 80000), "JTJ"),
    Model("Lexus", "IS 500", "870324", "passenger", "petrol", 4969, (2200, 2300), (61000, 65000), "JTH"),
    Model("Lexus", "ES 300h", "870340", "passenger", "hybrid", 2487, (2100, 2200), (45000, 55000), "JTH"),
    Model("Lexus", "NX 450h+", "870360", "passenger", "plug_in_hybrid", 2487, (2500, 2600), (60000, 66000), "JTJ"),
    Model("Lexus", "RZ 450e", "870380", "passenger", "electric", None, (2500, 2600), (58000, 66000), "JTJ"),
    Model("Honda", "Civic Hatchback", "870322", "passenger", "petrol", 1498, (1700, 1800), (25000, 32000), "JHM"),
    Model("Honda", "Civic Type R", "870323", "passenger", "petrol", 1996, (1800, 1850), (44000, 47000), "JHM"),
    Model("Honda", "CR-V", "870322", "passenger", "petrol", 1498, (2000, 2100), (30000, 37000), "JHL"),
    Model("Honda", "CR-V Hybrid", "870340", "passenger", "hybrid", 1993, (2100, 2200), (34000, 42000), "JHL"),
    Model("Honda", "HR-V", "870323", "passenger", "petrol", 1996, (1850, 1900), (24000, 29000), "JHL"),
    Model("Honda", "Accord Hybrid", "870340", "passenger", "hybrid", 1993, (1900, 2000), (33000, 39000), "JHM"),
    Model("Honda", "Pioneer 1000", "870321", "passenger", "petrol", 999, (1100, 1200), (17000, 24000), "JHM"),
    Model("Nissan", "Rogue", "870322", "passenger", "petrol", 1497, (2100, 2200), (29000, 39000), "JN8"),
    Model("Nissan", "Z", "870323", "passenger", "petrol", 2997, (1600, 1700), (42000, 53000), "JN1"),
    Model("Nissan", "Leaf", "870380", "passenger", "electric", None, (1950, 2050), (28000, 37000), "JN1"),
    Model("Nissan", "Ariya", "870380", "passenger", "electric", None, (2400, 2600), (39000, 54000), "JN1"),
    Model("Nissan", "Armada", "870324", "passenger", "petrol", 3497, (3200, 3400), (56000, 80000), "JN8"),
    Model("Nissan", "Frontier", "870431", "goods", "petrol", 3799, (2600, 2800), (31000, 42000), "JN6"),
    Model("Nissan", "e-NV200", "870460", "goods", "electric", None, (2200, 2250), (30000, 36000), "JN6"),
    Model("Mazda", "CX-5", "870323", "passenger", "petrol", 2488, (2000, 2100), (29000, 40000), "JM3"),
    Model("Mazda", "Mazda3", "870323", "passenger", "petrol", 2488, (1800, 1900), (24000, 34000), "JM1"),
    Model("Mazda", "MX-5 Miata", "870323", "passenger", "petrol", 1998, (1300, 1350), (29000, 37000), "JM1"),
    Model("Mazda", "CX-30", "870323", "passenger", "petrol", 2488, (1900, 2000), (25000, 36000), "JM3"),
    Model("Mazda", "CX-90", "870324", "passenger", "petrol", 3283, (2800, 2900), (40000, 58000), "JM3"),
    Model("Mazda", "CX-70", "870324", "passenger", "petrol", 3283, (2800, 2900), (42000, 56000), "JM3"),
    Model("Mazda", "CX-90 PHEV", "870360", "passenger", "plug_in_hybrid", 2488, (2900, 3000), (49000, 60000), "JM3"),
    Model("Mazda", "MX-30", "870380", "passenger", "electric", None, (2100, 2150), (34000, 38000), "JM1"),
    Model("Mazda", "CX-5 Skyactiv-D", "870332", "passenger", "diesel", 2191, (2100, 2200), (42000, 44000), "JM3"),
    Model("Mazda", "Mazda2 Skyactiv-D", "870331", "passenger", "diesel", 1499, (1500, 1550), (21000, 23000), "JM1"),
    Model("Mazda", "CX-60 e-Skyactiv D", "870350", "passenger", "diesel_hybrid", 3283, (2500, 2600), (48000, 52000), "JM3"),
    Model("Subaru", "Outback", "870323", "passenger", "petrol", 2498, (2200, 2300), (29000, 43000), "JF2"),
    Model("Subaru", "Forester", "870323", "passenger", "petrol", 2498, (2100, 2200), (30000, 41000), "JF2"),
    Model("Subaru", "Forester Hybrid", "870340", "passenger", "hybrid", 2498, (2200, 2300), (35000, 42000), "JF2"),
    Model("Subaru", "Crosstrek", "870323", "passenger", "petrol", 2498, (1950, 2050), (26000, 34000), "JF2"),
    Model("Subaru", "WRX", "870323", "passenger", "petrol", 2387, (1950, 2000), (33000, 44000), "JF1"),
    Model("Subaru", "BRZ", "870323", "passenger", "petrol", 2387, (1650, 1700), (31000, 36000), "JF1"),
    Model("Subaru", "Solterra", "870380", "passenger", "electric", None, (2500, 2600), (38000, 52000), "JF2"),
    Model("Mitsubishi", "Outlander", "870323", "passenger", "petrol", 2488, (2300, 2400), (29000, 40000), "JA4"),
    Model("Mitsubishi", "Outlander PHEV", "870360", "passenger", "plug_in_hybrid", 2360, (2500, 2600), (40000, 52000), "JA4"),
    Model("Mitsubishi", "Eclipse Cross", "870322", "passenger", "petrol", 1499, (1950, 2000), (27000, 32000), "JA4"),
    Model("Mitsubishi", "Mirage", "870322", "passenger", "petrol", 1193, (1300, 1350), (17000, 19000), "JA3"),
]

# Vehicle importers of record and their brands; share of vehicle entries.
VEHICLE_IMPORTERS = {
    "Toyota": ("95-377581600", ("Toyota", "Lexus"), 0.40),
    "Honda": ("95-368534100", ("Honda",), 0.10),
    "Nissan": ("95-190526100", ("Nissan",), 0.12),
    "Mazda": ("95-245010900", ("Mazda",), 0.18),
    "Subaru": ("22-244826300", ("Subaru",), 0.14),
    "Mitsubishi": ("95-362213700", ("Mitsubishi",), 0.06),
}
TRUCK_IMPORTERS = ["13-330196100", "48-121436300"]  # heavy-truck distributors (invented)
PART_IMPORTERS = [  # invented EIN-style importer numbers for parts distributors
    "38-247850100", "36-401187500", "62-181234900", "31-162507300", "95-426789200",
    "34-195533300", "91-187642100", "13-563420800", "76-026588500", "26-331099400",
    "04-371550600", "52-147963200",
]
MOTORCYCLE_IMPORTERS = ["95-362099400", "95-286745600", "95-359081300"]

FILER_CODES = ["EBJ", "A7K", "NX4", "M2T", "KWL", "3FH", "DHL", "UPS", "YSK", "NPX"]

VIN_TRANSLITERATION = {
    **{str(d): d for d in range(10)},
    "A": 1, "B": 2, "C": 3, "D": 4, "E": 5, "F": 6, "G": 7, "H": 8,
    "J": 1, "K": 2, "L": 3, "M": 4, "N": 5, "P": 7, "R": 9,
    "S": 2, "T": 3, "U": 4, "V": 5, "W": 6, "X": 7, "Y": 8, "Z": 9,
}
VIN_WEIGHTS = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2]
VIN_YEAR_CODE = {2023: "P", 2024: "R", 2025: "S", 2026: "T", 2027: "V"}
VIN_ALPHABET = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"


def vin_check_digit(vin17: str) -> str:
    """49 CFR 565.15: weighted sum of transliterated characters mod 11, 10 written as X."""
    total = sum(VIN_TRANSLITERATION[c] * w for c, w in zip(vin17, VIN_WEIGHTS, strict=True))
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def money(x: Decimal) -> Decimal:
    return x.quantize(CENT, rounding=ROUND_HALF_UP)


def fmt_money(x: Decimal | None) -> str | None:
    return None if x is None else f"{money(x):.2f}"


def luhn_digit(digits: str) -> str:
    """Luhn check digit (synthetic entry numbers; the contract does not verify it)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            d = d - 9 if d > 9 else d
        total += d
    return str((10 - total % 10) % 10)


def load_mix() -> dict[str, pl.DataFrame]:
    """HS10 candidates per category with their 2024 Census import value (the weight)."""
    census = pl.read_parquet(REFERENCE / "census" / "japan_2024_hs10_imports.parquet")
    usitc = pl.read_csv(
        REFERENCE / "usitc" / "tariff_database_2025_autoparts_chapters.csv", infer_schema=False
    ).select("hts8", "quantity_1_code", "mfn_rate_type_code", "mfn_ad_val_rate")
    parts_list = [
        line.strip()
        for line in (REFERENCE / "section232" / "auto_parts_hts.txt").read_text().splitlines()
        if line.strip()
    ]
    derivatives = pl.read_csv(
        REFERENCE / "section232" / "metal_derivative_products.csv", infer_schema=False
    ).to_dicts()
    base = (
        census.select(
            hs10=pl.col("I_COMMODITY"),
            desc=pl.col("I_COMMODITY_SDESC"),
            value=pl.col("CON_VAL_YR").cast(pl.Int64),
        )
        .with_columns(hts8=pl.col("hs10").str.slice(0, 8), hs6=pl.col("hs10").str.slice(0, 6))
        .filter(pl.col("value") > 0)
        .join(usitc, on="hts8", how="inner")
        .with_columns(
            on_232_list=pl.any_horizontal([pl.col("hs10").str.starts_with(p) for p in parts_list]),
            # Section 232 steel/aluminum derivative listing (first match; empty date = the
            # derivative duties in force before 2025-08-18, taken as 2025-03-12)
            derivative_type=pl.coalesce(
                [pl.when(pl.col("hs10").str.starts_with(d["hts_prefix"])).then(pl.lit(d["derivative_type"])) for d in derivatives]
            ),
            derivative_from=pl.coalesce(
                [
                    pl.when(pl.col("hs10").str.starts_with(d["hts_prefix"])).then(pl.lit(d["effective_date"] or "2025-03-12"))
                    for d in derivatives
                ]
            ).str.to_date(),
        )
        .sort("hs10")
    )
    catalogue_hs6 = sorted({m.hs6 for m in CATALOGUE})
    not_vehicle_line = pl.col("desc").str.contains("USED|MOTOR HOME|OFF-R")
    heading = pl.col("hs10").str.slice(0, 4)
    return {
        "car": base.filter(pl.col("hs6").is_in(catalogue_hs6) & (heading == "8703") & ~not_vehicle_line),
        "light_truck": base.filter(pl.col("hs6").is_in(catalogue_hs6) & pl.col("hs6").is_in(LIGHT_TRUCK_HS6)),
        "truck": base.filter((heading == "8704") & ~pl.col("hs6").is_in(LIGHT_TRUCK_HS6)),
        "part_232": base.filter(pl.col("on_232_list") & ~heading.is_in(["8703", "8704", "8711"])),
        "part_other": base.filter(
            ~pl.col("on_232_list")
            & pl.any_horizontal([pl.col("hs10").str.starts_with(p) for p in OTHER_PART_PREFIXES])
        ),
        "motorcycle": base.filter(heading == "8711"),
    }


class Generator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.mix = load_mix()
        self.mix_rows = {k: v.to_dicts() for k, v in self.mix.items()}
        self.mix_weights = {k: v["value"].to_list() for k, v in self.mix.items()}
        self.filer_serial = {f: 1_000_000 + i * 350_000 for i, f in enumerate(FILER_CODES)}
        self.vin_serial: dict[str, int] = {}
        self.vds = {
            (m.make, m.model): "".join(self.rng.choice(VIN_ALPHABET[:23]) for _ in range(5))
            for m in CATALOGUE
        }
        self.lines: list[dict] = []
        self.vehicles: list[dict] = []

    # -- identifiers -------------------------------------------------------------------------
    def entry_number(self) -> str:
        filer = self.rng.choice(FILER_CODES)
        self.filer_serial[filer] += self.rng.randint(1, 40)
        serial = f"{self.filer_serial[filer]:07d}"
        return f"{filer}-{serial}-{luhn_digit(serial)}"

    def vin(self, model: Model, model_year: int) -> str:
        serial = self.vin_serial.get(model.wmi, 100_000) + 1
        self.vin_serial[model.wmi] = serial
        plant = self.rng.choice("0123456789ABCDEFGHJKLMNPRSTUVWXYZ")
        body = model.wmi + self.vds[(model.make, model.model)] + "0" + VIN_YEAR_CODE[model_year] + plant + f"{serial % 1_000_000:06d}"
        return body[:8] + vin_check_digit(body) + body[9:]

    # -- line pieces -------------------------------------------------------------------------
    def pick_hs(self, category: str, allowed_hs6: set[str] | None = None) -> dict:
        rows, weights = self.mix_rows[category], self.mix_weights[category]
        if allowed_hs6 is not None:
            pairs = [(r, w) for r, w in zip(rows, weights, strict=True) if r["hs6"] in allowed_hs6]
            rows, weights = [p[0] for p in pairs], [p[1] for p in pairs]
        return self.rng.choices(rows, weights=weights, k=1)[0]

    def hts_text(self, hs10: str) -> str:
        if self.rng.random() < 0.2:
            return f"{hs10[:4]}.{hs10[4:6]}.{hs10[6:8]}.{hs10[8:]}"
        return hs10

    def origin(self, category: str) -> str:
        if category in ("part_232", "part_other", "motorcycle"):
            r = self.rng.random()
            for cc, share in OTHER_ORIGINS.items():
                if r < share:
                    return cc
                r -= share
        return "JP"

    def parts_value_and_quantity(self, unit: str | None) -> tuple[Decimal, str | None, str]:
        value = Decimal(str(round(min(max(self.rng.lognormvariate(10.1, 1.2), 350.0), 2_500_000.0), 2)))
        if unit in (None, "", "NA", "X"):
            return value, "0", "X"  # no HTS quantity unit: quantity 0 in X (the contract requires one)
        unit_price = {
            "KG": (6, 40), "NO": (20, 450), "T": (2000, 20000), "M2": (5, 60), "DOZ": (60, 600),
            "PRS": (20, 120), "HUN": (100, 900), "CM2": (0.5, 3), "DPR": (200, 900), "LNM": (1, 12),
        }.get(unit, (5, 100))
        q = float(value) / self.rng.uniform(*unit_price)
        if unit in ("NO", "DOZ", "PRS", "DPR", "HUN"):
            return value, str(max(1, round(q))), unit
        return value, f"{max(q, 0.01):.2f}", unit

    # -- entries -----------------------------------------------------------------------------
    def entry_date(self, year: int, month: int) -> dt.date:
        return dt.date(year, month, self.rng.randint(1, calendar.monthrange(year, month)[1]))

    def base_line(self, entry: dict, line_number: int, hs: dict, origin: str) -> dict:
        return {
            "entry_number": entry["entry_number"],
            "line_number": line_number,
            "entry_date": entry["entry_date"],
            "hs10": hs["hs10"],
            "hts_code": self.hts_text(hs["hs10"]),
            "country_of_origin": origin,
            "transport_mode": entry["transport_mode"],
            "port_code": entry["port_code"],
            "importer_id": entry["importer_id"],
            "category": entry["category"],
            "mfn_rate_type_code": hs["mfn_rate_type_code"],
            "mfn_ad_val_rate": hs["mfn_ad_val_rate"],
            "on_232_list": hs["on_232_list"],
            "derivative_type": hs["derivative_type"],
            "derivative_from": hs["derivative_from"],
            "steel_content_value_usd": None,
            "aluminum_content_value_usd": None,
        }

    def vehicle_entry(self, year: int, month: int, category: str) -> list[dict]:
        names = list(VEHICLE_IMPORTERS)
        maker = self.rng.choices(names, weights=[VEHICLE_IMPORTERS[n][2] for n in names], k=1)[0]
        importer_id, brands, _ = VEHICLE_IMPORTERS[maker]
        models = [m for m in CATALOGUE if m.make in brands and (m.vehicle_class == "goods") == (category == "light_truck")]
        if not models:
            models = [m for m in CATALOGUE if m.make in brands and m.vehicle_class == "passenger"]
            category = "car"
        entry = {
            "entry_number": self.entry_number(),
            "entry_date": self.entry_date(year, month),
            "transport_mode": "vessel",
            "port_code": self.rng.choices(VESSEL_PORTS, weights=VESSEL_PORT_WEIGHTS, k=1)[0],
            "importer_id": importer_id,
            "category": category,
        }
        hs6_available = {m.hs6 for m in models}
        lines = []
        for line_number in range(1, self.rng.randint(1, 4) + 1):
            hs = self.pick_hs(category, hs6_available)
            line = self.base_line(entry, line_number, hs, "JP")
            model = self.rng.choice([m for m in models if m.hs6 == hs["hs6"]])
            n = self.rng.randint(1, 12)
            total = Decimal("0")
            for _ in range(n):
                total += self.add_vehicle(line, model)
            line.update(customs_value_usd=total, quantity=str(n), quantity_unit="NO")
            lines.append(line)
        return lines

    def add_vehicle(self, line: dict, model: Model) -> Decimal:
        entry_date: dt.date = line["entry_date"]
        # New model years reach dealers from mid-year; a tenth are prior-year stock.
        model_year = entry_date.year + (1 if entry_date.month >= 7 else 0)
        if self.rng.random() < 0.1:
            model_year -= 1
        msrp = Decimal(self.rng.randrange(model.msrp_usd[0], model.msrp_usd[1], 50))
        value = money(msrp * Decimal(str(round(self.rng.uniform(0.74, 0.86), 4))))
        self.vehicles.append(
            {
                "vin": self.vin(model, model_year),
                "entry_number": line["entry_number"],
                "line_number": line["line_number"],
                "make": model.make,
                "model": model.model,
                "model_year": model_year,
                "vehicle_class": model.vehicle_class,
                "propulsion": model.propulsion,
                "engine_cc": model.engine_cc,
                "gvw_kg": self.rng.randint(*model.gvw_kg),
                "msrp_usd": msrp,
                "customs_value_usd": value,
            }
        )
        return value

    def goods_entry(self, year: int, month: int, category: str) -> list[dict]:
        if category == "truck":
            importer = self.rng.choice(TRUCK_IMPORTERS)
            n_lines = self.rng.randint(1, 3)
        elif category == "motorcycle":
            importer = self.rng.choice(MOTORCYCLE_IMPORTERS)
            n_lines = self.rng.randint(1, 5)
        else:
            importer = self.rng.choice(PART_IMPORTERS)
            n_lines = self.rng.randint(1, 8)
        origin = self.origin(category)
        if origin == "MX":
            mode, port = "truck", self.rng.choice(TRUCK_PORTS)
        elif category.startswith("part") and self.rng.random() < 0.12:
            mode, port = "air", self.rng.choice(AIR_PORTS)
        else:
            mode = "vessel"
            port = self.rng.choices(VESSEL_PORTS, weights=VESSEL_PORT_WEIGHTS, k=1)[0]
        entry = {
            "entry_number": self.entry_number(),
            "entry_date": self.entry_date(year, month),
            "transport_mode": mode,
            "port_code": port,
            "importer_id": importer,
            "category": category,
        }
        lines = []
        for line_number in range(1, n_lines + 1):
            # parts entries mix 232-listed and other parts
            cat = category
            if category.startswith("part"):
                cat = "part_232" if self.rng.random() < 0.73 else "part_other"
            hs = self.pick_hs(cat)
            line = self.base_line({**entry, "category": cat}, line_number, hs, origin)
            if cat == "truck":
                n = self.rng.randint(1, 5)
                unit_value = (200_000, 800_000) if hs["hs6"] == "870410" else (60_000, 150_000)
                value = sum(money(Decimal(str(self.rng.uniform(*unit_value)))) for _ in range(n))
                line.update(customs_value_usd=value, quantity=str(n), quantity_unit="NO")
            elif cat == "motorcycle":
                n = self.rng.randint(1, 30)
                value = sum(money(Decimal(str(self.rng.uniform(4_000, 18_000)))) for _ in range(n))
                line.update(customs_value_usd=value, quantity=str(n), quantity_unit="NO")
                # Steel derivative (9903.81.91, from 2025-08-18) for 8711.30/.50/.60: most
                # importers declare the steel content value, some do not.
                if hs["hs6"] in ("871130", "871150", "871160") and line["entry_date"] >= dt.date(2025, 8, 18):
                    if self.rng.random() < 0.6:
                        line["steel_content_value_usd"] = money(value * Decimal(str(round(self.rng.uniform(0.15, 0.30), 3))))
            else:
                value, qty, unit = self.parts_value_and_quantity(hs["quantity_1_code"])
                line.update(customs_value_usd=value, quantity=qty, quantity_unit=unit)
                # Parts on the steel/aluminum derivative list: half the importers declare the
                # metal content (20-45 % of value), the others leave it empty.
                kind = hs["derivative_type"]
                if kind and line["entry_date"] >= hs["derivative_from"] and self.rng.random() < 0.5:
                    column = "steel_content_value_usd" if kind == "steel" else "aluminum_content_value_usd"
                    line[column] = money(value * Decimal(str(round(self.rng.uniform(0.20, 0.45), 3))))
            lines.append(line)
        return lines

    def month(self, year: int, month: int) -> None:
        target = self.rng.randint(*LINES_PER_MONTH)
        produced: list[dict] = []
        categories = list(CATEGORY_SHARE)
        weights = [CATEGORY_SHARE[c] for c in categories]
        while len(produced) < target:
            category = self.rng.choices(categories, weights=weights, k=1)[0]
            if category in ("car", "light_truck"):
                produced += self.vehicle_entry(year, month, category)
            else:
                produced += self.goods_entry(year, month, category)
        self.lines += produced


# -- broker-declared duty (reconciliation input) ------------------------------------------------
# Plain arithmetic of the rules in the project's tariff-rules brief, for JAPANESE lines with an
# ad valorem or free MFN rate. Not the project's engine: a broker's own computation.
D = dt.date


def declared_rate(line: dict, mistake: bool) -> Decimal | None:
    """Duty rate a broker declares; `mistake` applies the typical errors described inline."""
    if line["country_of_origin"] != "JP" or line["mfn_rate_type_code"] not in ("0", "7"):
        return None
    mfn = Decimal(line["mfn_ad_val_rate"] or "0")
    day: dt.date = line["entry_date"]
    hs10: str = line["hs10"]
    if any(hs10.startswith(p) for p in S232_VEHICLE_PREFIXES):
        # Section 232 autos 9903.94.01 (+25 %) from 2025-04-03; Japan deal 9903.94.40/.41
        # (15 % inclusive of MFN) from 2025-09-16; IEEPA never applies (232 goods excluded).
        if day < D(2025, 4, 3):
            return mfn
        if day < D(2025, 9, 16):
            return mfn if mistake else mfn + Decimal("0.25")  # mistake: 232 forgotten
        return mfn + Decimal("0.25") if mistake else max(mfn, Decimal("0.15"))  # mistake: deal ignored
    if line["category"] in ("truck",):
        return None  # medium/heavy trucks: 232 trucks from 2025-11-01, not declared here
    if line["category"] == "motorcycle" and hs10[:6] in ("871130", "871150", "871160") and day >= D(2025, 8, 18):
        return None  # steel derivative duty needs the metal content; not declared here
    if line["derivative_type"] and not line["on_232_list"] and day >= line["derivative_from"]:
        return None  # steel/aluminum derivative duty on the metal content: not declared here
    if line["on_232_list"]:
        # Section 232 parts 9903.94.05 (+25 %) from 2025-05-03, Japan deal 9903.94.42/.43 from
        # 2025-09-16; before 2025-05-03 the IEEPA reciprocal applies (10 %, 24 % on 2025-04-09).
        if day < D(2025, 4, 5):
            return mfn
        if day < D(2025, 5, 3):
            return mfn + (Decimal("0.24") if day == D(2025, 4, 9) else Decimal("0.10"))
        if day < D(2025, 9, 16):
            return mfn + Decimal("0.25")
        return mfn + Decimal("0.25") if mistake else max(mfn, Decimal("0.15"))  # mistake: deal ignored
    # Everything else (non-listed parts, motorcycles, 8703.21): IEEPA baseline 9903.01.25
    # (+10 %) from 2025-04-05, Japan 9903.01.53 (+24 %) on 2025-04-09 only, Japan 9903.02.72/.73
    # (15 % inclusive) from 2025-08-07 to 2026-02-23; Section 122 9903.03.01 (+10 %) 2026-02-24
    # to 2026-07-23; Section 301 9903.05.49 (12.5 % inclusive, UNCONFIRMED) from 2026-07-24.
    if day < D(2025, 4, 5):
        return mfn
    if day < D(2025, 8, 7):
        return mfn + (Decimal("0.24") if day == D(2025, 4, 9) else Decimal("0.10"))
    if day < D(2026, 2, 24):
        return mfn + Decimal("0.15") if mistake else max(mfn, Decimal("0.15"))  # mistake: stacked on MFN
    if day < D(2026, 7, 24):
        return mfn + Decimal("0.10")
    return max(mfn, Decimal("0.125"))


def add_declared_duty(gen: Generator) -> None:
    rng = gen.rng
    for line in gen.lines:
        line["declared_duty_usd"] = None
        if rng.random() >= 0.15:
            continue
        rate = declared_rate(line, mistake=rng.random() < 0.04)
        if rate is not None:
            line["declared_duty_usd"] = money(line["customs_value_usd"] * rate)


# -- line facts for the duty rules of issue 16 (export date, claims) -----------------------
LINE_FACTS_SEED_OFFSET = 16  # a generator of its own: the other columns stay as they were


def add_line_facts(gen: Generator, seed: int) -> None:
    """`export_date` (7501 block 11) on 45 % of the entries: 10-35 days before entry by vessel,
    1-3 days by air or truck; `declared_headings` claims on a few lines (see README)."""
    rng = random.Random(seed + LINE_FACTS_SEED_OFFSET)
    exported: dict[str, dt.date | None] = {}
    for line in gen.lines:
        entry = line["entry_number"]
        if entry not in exported:
            days = rng.randint(10, 35) if line["transport_mode"] == "vessel" else rng.randint(1, 3)
            exported[entry] = line["entry_date"] - dt.timedelta(days=days) if rng.random() < 0.45 else None
        line["export_date"] = exported[entry]
        line["declared_headings"] = None
        day, r = line["entry_date"], rng.random()
        if line["category"] == "part_232" and day >= D(2025, 5, 3) and r < 0.015:
            # "not a part of a passenger vehicle or light truck" (9903.94.06): no declared duty
            line["declared_headings"], line["declared_duty_usd"] = "9903.94.06", None
        elif line["category"] == "part_other" and day >= D(2025, 11, 1) and r < 0.06:
            # certified for US production or repair: Japan 9903.94.55 (15 % total), else 9903.94.07
            japan = line["country_of_origin"] == "JP"
            line["declared_headings"] = "9903.94.55" if japan else "9903.94.07"
            if line["declared_duty_usd"] is not None and line["mfn_rate_type_code"] in ("0", "7"):
                mfn = Decimal(line["mfn_ad_val_rate"] or "0")
                line["declared_duty_usd"] = money(line["customs_value_usd"] * max(mfn, Decimal("0.15")))
        elif (
            line["category"] == "part_other" and line["declared_duty_usd"] is not None
            and D(2026, 2, 24) <= day < D(2026, 7, 24) and r < 0.25
        ):
            # civil aircraft (9903.03.05), declared as MFN only: honoured on the codes of note
            # 2(aa)(iv), refused on the others (reconciliation names the refused claim)
            line["declared_headings"] = "9903.03.05"
            line["declared_duty_usd"] = money(line["customs_value_usd"] * Decimal(line["mfn_ad_val_rate"] or "0"))
        elif line["category"] == "truck" and day >= D(2025, 11, 1) and r < 0.05:
            line["declared_headings"] = "9903.74.07"  # medium/heavy vehicle 25 years old or more


# -- deliberate defects ---------------------------------------------------------------------
BAD_ROW_KINDS = ("bad_hts", "negative_value", "unknown_country", "three_decimals", "bad_hts_length")


def add_bad_rows(gen: Generator) -> list[dict]:
    """A few rows per month the loader must quarantine, appended to parts entries."""
    rng = gen.rng
    by_month: dict[tuple[int, int], list[dict]] = {}
    last_line: dict[str, int] = {}
    for line in gen.lines:
        last_line[line["entry_number"]] = max(last_line.get(line["entry_number"], 0), line["line_number"])
        if line["category"].startswith("part"):
            by_month.setdefault((line["entry_date"].year, line["entry_date"].month), []).append(line)
    bad = []
    for key in sorted(by_month):
        for i in range(BAD_ROWS_PER_MONTH):
            template = rng.choice(by_month[key])
            row = dict(template)
            last_line[row["entry_number"]] += 1
            row["line_number"] = last_line[row["entry_number"]]
            row["declared_duty_usd"] = None
            kind = BAD_ROW_KINDS[(i + key[1]) % len(BAD_ROW_KINDS)]
            row["defect"] = kind
            if kind == "bad_hts":
                row["hts_code"] = row["hs10"][:2] + "O" + row["hs10"][3:]  # letter O, not zero
            elif kind == "bad_hts_length":
                row["hts_code"] = row["hs10"][:8]
            elif kind == "negative_value":
                row["customs_value_usd"] = -row["customs_value_usd"]
            elif kind == "unknown_country":
                row["country_of_origin"] = "XZ"
            elif kind == "three_decimals":
                row["customs_value_usd"] = f"{money(row['customs_value_usd']):.2f}5"
            bad.append(row)
    return bad


def add_vehicle_defects(gen: Generator) -> dict[str, str]:
    """One electric car declared on a petrol 8703.23 line, one line whose vehicle values do
    not add up to the line value, one VIN with a wrong check digit."""
    notes = {}
    petrol_line = next(
        ln for ln in gen.lines
        if ln["hs10"].startswith("870323") and ln["entry_date"] >= dt.date(2025, 10, 1) and ln["quantity"] != "1"
        and ln["importer_id"] == VEHICLE_IMPORTERS["Toyota"][0]
    )
    ev = next(m for m in CATALOGUE if m.model == "bZ4X")
    vehicle = next(
        v for v in gen.vehicles
        if v["entry_number"] == petrol_line["entry_number"] and v["line_number"] == petrol_line["line_number"]
    )
    vehicle.update(
        vin=gen.vin(ev, vehicle["model_year"]), make=ev.make, model=ev.model, propulsion=ev.propulsion,
        engine_cc=None, gvw_kg=gen.rng.randint(*ev.gvw_kg), vehicle_class=ev.vehicle_class,
    )
    notes["misdeclared_ev"] = f"{vehicle['vin']} on {petrol_line['entry_number']} line {petrol_line['line_number']}"

    off_line = next(
        ln for ln in gen.lines
        if ln["category"] == "car" and ln["entry_date"] >= dt.date(2026, 3, 1) and ln["quantity"] != "1"
    )
    vehicle = next(
        v for v in gen.vehicles
        if v["entry_number"] == off_line["entry_number"] and v["line_number"] == off_line["line_number"]
    )
    vehicle["customs_value_usd"] += Decimal("1000.00")
    notes["values_do_not_sum"] = f"{off_line['entry_number']} line {off_line['line_number']} (+1000.00 on {vehicle['vin']})"

    bad_vin_vehicle = gen.vehicles[len(gen.vehicles) // 2]
    vin = bad_vin_vehicle["vin"]
    wrong = "0" if vin[8] != "0" else "1"
    bad_vin_vehicle["vin"] = vin[:8] + wrong + vin[9:]
    notes["bad_check_digit"] = bad_vin_vehicle["vin"]
    return notes


# -- output ---------------------------------------------------------------------------------
CUSTOMS_COLUMNS = [
    "entry_number", "line_number", "entry_date", "hts_code", "country_of_origin",
    "customs_value_usd", "quantity", "quantity_unit", "transport_mode", "port_code",
    "importer_id", "declared_duty_usd", "steel_content_value_usd", "aluminum_content_value_usd",
    "export_date", "declared_headings",
]
VEHICLE_COLUMNS = [
    "vin", "entry_number", "line_number", "make", "model", "model_year", "vehicle_class",
    "propulsion", "engine_cc", "gvw_kg", "msrp_usd", "customs_value_usd",
]


def as_text(rows: list[dict], columns: list[str]) -> pl.DataFrame:
    def text(value: object) -> str | None:
        if value is None:
            return None
        if isinstance(value, Decimal):
            return fmt_money(value)
        return str(value)

    return pl.DataFrame(
        {c: [text(r[c]) for r in rows] for c in columns}, schema={c: pl.String for c in columns}
    )


def generate(seed: int = SEED) -> tuple[pl.DataFrame, pl.DataFrame, dict]:
    gen = Generator(seed)
    year, month = FIRST_MONTH
    while (year, month) <= LAST_MONTH:
        gen.month(year, month)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    add_declared_duty(gen)
    add_line_facts(gen, seed)
    notes = add_vehicle_defects(gen)
    bad = add_bad_rows(gen)
    rows = sorted(gen.lines + bad, key=lambda r: (r["entry_date"], r["entry_number"], r["line_number"]))
    customs = as_text(rows, CUSTOMS_COLUMNS)
    vehicles = as_text(gen.vehicles, VEHICLE_COLUMNS)
    stats = {
        "lines": len(rows),
        "bad_rows": len(bad),
        "vehicles": len(gen.vehicles),
        "declared": sum(1 for r in rows if r.get("declared_duty_usd") is not None),
        **notes,
    }
    return customs, vehicles, stats


README = """# Sample inputs — SYNTHETIC DATA

**These files are synthetic.** No row describes a real customs entry, importer or vehicle.
They exist so that `make run` (`tariffcost backfill --from 2025-01 --to 2026-10` on the
embedded sample) and the tests have realistic input. Regenerate them with `make sample`
(`scripts/make_sample.py`, fixed seed {seed}, no network); the output is byte-for-byte
deterministic for a given polars/pyarrow version.

| file | grain | rows |
|---|---|---|
| `customs_lines.parquet` | one row per customs entry summary line (contract "Input: customs entry lines") | {lines} |
| `vehicles.parquet` | one row per imported vehicle of the 8703 / light 8704 lines (contract "Input: vehicles") | {vehicles} |

Every column is stored as text, like a raw CSV export (money as strings with two decimals);
the loader reads inputs as text and validates them.

## How it was generated

- **Months**: entry dates 2025-01-01 to 2026-10-31, spread uniformly over each month's days;
  about 2,300–2,700 lines a month in entries of 1–8 lines that share entry date, importer,
  port and transport mode.
- **HS10 mix**: drawn with probability proportional to the real 2024 US imports from Japan
  (`data/reference/census/japan_2024_hs10_imports.parquet`, column `CON_VAL_YR`, US Census),
  within six groups whose share of *lines* is fixed: passenger vehicles 8703 (30 %), light
  trucks 8704 GVW ≤ 5 t (2 %), other 8704 trucks (2 %), parts on CBP's Section 232 auto-parts
  list (`data/reference/section232/auto_parts_hts.txt`, 44 %), other chapter 40/84/85/87 parts
  (16 %) and motorcycles 8711 (6 %). Only HS10 codes whose HTS8 is in
  `data/reference/usitc/tariff_database_2025_autoparts_chapters.csv` are used; used vehicles,
  motor homes and off-road vehicles are left out of the vehicle lines. About a fifth of the
  HTS codes are written with dots (`8703.23.01.90`).
- **Origins**: vehicle lines are Japanese; parts and motorcycle entries are 3 % DE, 3 % KR and
  2 % MX (Mexican ones by truck through Laredo 2304 / El Paso 2402), the rest JP.
- **Values**: a vehicle line is n vehicles (1–12) at 74–86 % of an invented MSRP in the
  model's range; parts lines follow a log-normal value (median ≈ $24k); quantities use the
  HTS8's `quantity_1_code` (`NO` for vehicles; `X` with quantity 0 where the database has none).
- **Ports**: real CBP port codes — vessel 2704 Los Angeles, 2709 Long Beach, 1001 New York,
  4601 Newark, 1303 Baltimore, 1401 Norfolk, 1803 Jacksonville, 5301 Houston, 3001 Seattle,
  3002 Tacoma; air 2720 Los Angeles Intl, 4701 JFK, 3901 Chicago, 5501 Dallas/Fort Worth.
  About 12 % of parts entries come by air.
- **Entry numbers**: invented filer codes + 7-digit serial + a Luhn check digit
  (`ABC-1234567-8`); importer numbers are invented EIN-style numbers.
- **Declared duty** (`declared_duty_usd`, for reconciliation): about 15 % of the Japanese
  lines with an ad valorem or free MFN rate carry what a broker declared, computed in the script
  with plain arithmetic of the tariff rules (not with the project's engine); about 4 % of those
  carry a typical mistake: Section 232 at +25 % on top of MFN after the 2025-09-16 Japan deal,
  the IEEPA 15 % stacked on MFN instead of inclusive (2025-08-07 to 2026-02-23), or 232 forgotten
  on a vehicle between 2025-04-03 and 2025-09-15. Medium/heavy trucks and steel/aluminum
  derivative goods (outside the 232 auto lists) never carry a declared duty.
- **Steel content**: 60 % of the 8711.30/.50/.60 motorcycle lines entered from 2025-08-18
  declare `steel_content_value_usd` (15–30 % of value); the others leave it empty so that the
  "metal content not declared" flag shows. Parts on the steel/aluminum derivative list
  (`data/reference/section232/metal_derivative_products.csv`) entered from the listing date
  declare the steel or aluminum content (20–45 % of value) on half of their lines.
- **Line facts** (issue 16; drawn by a generator of their own, seed + 16, so the other columns
  are unchanged): `export_date` on 45 % of the entries, 10–35 days before entry by vessel and
  1–3 days by air or truck (so some entries of 2025-04, 2025-08–10 and 2026-02 meet an
  in-transit rule); `declared_headings`: 1.5 % of the listed parts from 2025-05-03 claim
  9903.94.06 (no declared duty), 6 % of the other parts from 2025-11-01 claim the certified-part
  heading (Japan 9903.94.55, declared at 15 % total; others 9903.94.07), a quarter of the other
  parts with declared duty entered 2026-02-24 to 2026-07-23 claim the civil-aircraft exemption
  9903.03.05 and declare MFN only (honoured on the codes of US note 2(aa)(iv), refused on the
  others: the reconciliation names the refused claim), and 5 % of the medium/heavy trucks from
  2025-11-01 claim 9903.74.07 (25 years old).
- **Vehicles**: a synthetic catalogue of Japanese-built models (Toyota, Lexus, Honda, Nissan,
  Mazda, Subaru, Mitsubishi) whose engine size, propulsion and gross vehicle weight match the
  HTS6 of the line they are entered on; VINs use the makers' real WMIs from
  `data/reference/vpic/wmi_manufacturers.csv` with a valid 49 CFR 565 check digit, the model
  year code in position 10 and a serial. The vehicles of a line number `quantity` and their
  `customs_value_usd` sum to the line's value. The Toyota GR86 carries Subaru's WMI `JF1`, as
  the real car does (it is built by Subaru), so its WMI maker differs from its make.

## Deliberate defects (so that quarantine and checks show up)

- {bad_rows} customs rows ({bad_rate:.2%}), {bad_per_month} a month, appended to parts entries:
  HTS code with a letter `O`, HTS code of 8 digits, negative customs value, unknown country
  `XZ`, value with three decimals.
- Vehicles: an electric car declared on a petrol 8703.23 line ({misdeclared_ev});
  a line whose vehicle values do not sum to the line value ({values_do_not_sum});
  one VIN with a wrong check digit ({bad_check_digit}).
"""


def main() -> None:
    customs, vehicles, stats = generate()
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    customs.write_parquet(OUT_DIR / "customs_lines.parquet", compression="zstd", statistics=False)
    vehicles.write_parquet(OUT_DIR / "vehicles.parquet", compression="zstd", statistics=False)
    (OUT_DIR / "README.md").write_text(
        README.format(
            seed=SEED,
            bad_rate=stats["bad_rows"] / stats["lines"],
            bad_per_month=BAD_ROWS_PER_MONTH,
            **stats,
        )
    )
    print(
        f"wrote {stats['lines']} customs lines ({stats['bad_rows']} deliberately bad, "
        f"{stats['declared']} with declared duty) and {stats['vehicles']} vehicles to {OUT_DIR}"
    )


if __name__ == "__main__":
    main()
