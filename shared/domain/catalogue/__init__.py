"""The measures catalogue (措施清单) and list types, as versioned data (`catalogue.yaml`)."""

from shared.domain.catalogue.index import CatalogueIndex, default_index
from shared.domain.catalogue.loader import (
    CatalogueError,
    catalogue_from_data,
    catalogue_problems,
    default_catalogue,
    load_catalogue,
    parse_catalogue,
    validate_catalogue,
)
from shared.domain.catalogue.model import (
    Catalogue,
    Department,
    ListType,
    Measure,
    ObjectionRule,
    RepairLockout,
    RepairRule,
)

__all__ = [
    "Catalogue",
    "CatalogueError",
    "CatalogueIndex",
    "Department",
    "ListType",
    "Measure",
    "ObjectionRule",
    "RepairLockout",
    "RepairRule",
    "catalogue_from_data",
    "catalogue_problems",
    "default_catalogue",
    "default_index",
    "load_catalogue",
    "parse_catalogue",
    "validate_catalogue",
]
