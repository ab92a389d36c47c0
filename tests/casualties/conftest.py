"""Fixtures shared by the casualty tests."""

import pytest

from tests.factories import RegionFactory


@pytest.fixture
def idlib_places():
    """Syria > Idlib governorate > Idlib district > Saraqib sub-district, and Aleppo governorate beside it."""
    syria = RegionFactory(code="SYR", name="Syria")
    idlib = RegionFactory(code="SY07", name="Idlib", parent=syria)
    district = RegionFactory(code="SY0700", name="Idlib district", parent=idlib)
    saraqib = RegionFactory(code="SY070003", name="Saraqib", parent=district)
    aleppo = RegionFactory(code="SY02", name="Aleppo", parent=syria)
    return {"syria": syria, "idlib": idlib, "district": district, "saraqib": saraqib, "aleppo": aleppo}
