"""The catalogue's schemas under the one name the views, the API and admin import them by.

They are defined by what they hold: schema_fields.py (the field helpers they share),
filter_schemas.py (the centre list's query), centre_schemas.py (what comes out about a
centre) and update_schemas.py (what a change sends in). This module only names them again
for those importers; new code imports from the module that defines the schema.
"""

from marketplace.catalogue.centre_schemas import (
    AccreditationEventSchema,
    CentreSchema,
    CentreSummarySchema,
)
from marketplace.catalogue.filter_schemas import CentreFilterSchema
from marketplace.catalogue.schema_fields import field_errors, load_or_fail
from marketplace.catalogue.update_schemas import CentreUpdateSchema

__all__ = [
    "AccreditationEventSchema",
    "CentreFilterSchema",
    "CentreSchema",
    "CentreSummarySchema",
    "CentreUpdateSchema",
    "field_errors",
    "load_or_fail",
]
