"""Where homes are, and how far: postcode district centroids (`flask import postcodes`) and the
distance rule of DESIGN §4a (haversine on a sphere of 3,958.8 miles, to one decimal).

A home's point is its postcode district's centroid when one has been imported, otherwise its
local authority's point. Every distance says which one it used.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select

from consortium.core import audit
from consortium.core.extensions import db
from consortium.core.models import Authority
from consortium.core.tabular import ImportResult, RowErrors, Table, parse_decimal
from providers.models import Home, PostcodeDistrict

EARTH_RADIUS_MILES = 3958.8
LOCAL_MILES = Decimal(20)  # "within 20 miles": the sufficiency measure of a local placement
POSTCODE_COLUMNS = {"required": ["postcode_district", "latitude", "longitude"]}
DISTRICT = re.compile(r"^[A-Z]{1,2}[0-9][0-9A-Z]?$")


@dataclass(frozen=True)
class Point:
    latitude: Decimal
    longitude: Decimal
    source: str  # what a person is told: "postcode district NG5", "Nottingham's point"


def outward_code(postcode: str | None) -> str | None:
    """The postcode district of a postcode or of an outward code alone: "NG5 1AA" and "NG5" give "NG5"."""
    if not postcode:
        return None
    code = postcode.strip().upper().split()[0] if postcode.strip() else ""
    if " " not in postcode.strip() and len(code) > 4:
        code = code[:-3]  # written without its space: NG51AA
    return code if DISTRICT.match(code) else None


def miles(a: Point, b: Point) -> Decimal:
    """The great-circle distance between two points, in miles, half-up to one decimal."""
    lat1, lon1, lat2, lon2 = (math.radians(float(v)) for v in (a.latitude, a.longitude, b.latitude, b.longitude))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    exact = 2 * EARTH_RADIUS_MILES * math.asin(min(1.0, math.sqrt(h)))
    return Decimal(repr(exact)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def authority_point(authority: Authority | None) -> Point | None:
    if authority is None or authority.latitude is None or authority.longitude is None:
        return None
    return Point(authority.latitude, authority.longitude, f"{authority.name}'s point")


def home_points(homes: list[Home]) -> dict[int, Point]:
    """Each home's point (those with one): its postcode district's centroid, else its local
    authority's. Two queries, however many homes."""
    districts = {home.id: outward_code(home.postcode) for home in homes}
    centroids = {
        d.district: d
        for d in db.session.scalars(
            select(PostcodeDistrict).where(PostcodeDistrict.district.in_({d for d in districts.values() if d}))
        )
    }
    areas = {
        a.name.lower(): a
        for a in db.session.scalars(
            select(Authority).where(func.lower(Authority.name).in_({h.local_authority.lower() for h in homes}))
        )
    }
    points = {}
    for home in homes:
        centroid = centroids.get(districts[home.id])
        if centroid is not None:
            points[home.id] = Point(centroid.latitude, centroid.longitude, f"postcode district {centroid.district}")
        elif (point := authority_point(areas.get(home.local_authority.lower()))) is not None:
            points[home.id] = point
    return points


@dataclass(frozen=True)
class Distance:
    miles: Decimal
    source: str  # which point of the home it used

    @property
    def local(self) -> bool:
        return self.miles <= LOCAL_MILES


def distances_from(authority: Authority, homes: list[Home]) -> dict[int, Distance]:
    """Miles from a placing authority's point to each home's point (homes with one)."""
    return distances_to(authority, home_points(homes))


def distances_to(authority: Authority, points: dict[int, Point]) -> dict[int, Distance]:
    """Miles from a placing authority's point to each of the homes' points already read."""
    origin = authority_point(authority)
    if origin is None:
        return {}
    return {home_id: Distance(miles(origin, point), point.source) for home_id, point in points.items()}


def import_postcodes(table: Table) -> ImportResult:
    """Postcode district centroids: postcode_district,latitude,longitude. All or nothing."""
    errors = RowErrors()
    parsed: dict[str, tuple[Decimal, Decimal]] = {}
    seen: dict[str, int] = {}
    for row in table.rows:
        district = (row["postcode_district"] or "").strip().upper()
        if not DISTRICT.match(district):
            errors.add(row.line, f"postcode district {row['postcode_district']!r} is not an outward code like NG5")
            continue
        if district in seen:
            errors.add(row.line, f"postcode district {district} appears again (first on line {seen[district]})")
            continue
        seen[district] = row.line
        try:
            latitude = parse_decimal(row["latitude"], "latitude")
            longitude = parse_decimal(row["longitude"], "longitude")
        except ValueError as error:
            errors.add(row.line, str(error))
            continue
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            errors.add(row.line, "latitude must be from -90 to 90 and longitude from -180 to 180")
            continue
        parsed[district] = (latitude.quantize(Decimal("0.000001")), longitude.quantize(Decimal("0.000001")))
    errors.raise_if_any()
    existing = {d.district: d for d in db.session.scalars(select(PostcodeDistrict))}
    result = ImportResult()
    with audit.import_batch(db.session):
        for district, (latitude, longitude) in parsed.items():
            known = existing.get(district)
            if known is None:
                db.session.add(PostcodeDistrict(district=district, latitude=latitude, longitude=longitude))
                result.added += 1
            elif (known.latitude, known.longitude) != (latitude, longitude):
                known.latitude, known.longitude = latitude, longitude
                result.updated += 1
            else:
                result.unchanged += 1
    audit.record_import(db.session, "PostcodeDistrict", table, result)
    return result
