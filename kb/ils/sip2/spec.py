"""The SIP2 message layouts refdesk speaks (3M Standard Interchange Protocol 2.00).

A message is a two-digit command, then fixed-length fields in a set order, then
variable fields each introduced by a two-letter id and ended by ``|``. Only the
fixed layouts need a table: variable fields are found by their ids.
"""

from __future__ import annotations

from enum import Enum

DATE = 18  # YYYYMMDDZZZZHHMMSS

# Fixed fields of each message, in wire order: (name, width).
FIXED_LAYOUTS: dict[str, tuple[tuple[str, int], ...]] = {
    # SC -> ACS
    "93": (("uid_algorithm", 1), ("pwd_algorithm", 1)),
    "99": (("status_code", 1), ("max_print_width", 3), ("protocol_version", 4)),
    "97": (),
    "23": (("language", 3), ("transaction_date", DATE)),
    "63": (("language", 3), ("transaction_date", DATE), ("summary", 10)),
    "17": (("transaction_date", DATE),),
    "29": (
        ("third_party_allowed", 1),
        ("no_block", 1),
        ("transaction_date", DATE),
        ("nb_due_date", DATE),
    ),
    "65": (("transaction_date", DATE),),
    "35": (("transaction_date", DATE),),
    # ACS -> SC
    "94": (("ok", 1),),
    "98": (
        ("online_status", 1),
        ("checkin_ok", 1),
        ("checkout_ok", 1),
        ("acs_renewal_policy", 1),
        ("status_update_ok", 1),
        ("offline_ok", 1),
        ("timeout_period", 3),
        ("retries_allowed", 3),
        ("date_time_sync", DATE),
        ("protocol_version", 4),
    ),
    "96": (),
    "24": (("patron_status", 14), ("language", 3), ("transaction_date", DATE)),
    "64": (
        ("patron_status", 14),
        ("language", 3),
        ("transaction_date", DATE),
        ("hold_items_count", 4),
        ("overdue_items_count", 4),
        ("charged_items_count", 4),
        ("fine_items_count", 4),
        ("recall_items_count", 4),
        ("unavailable_holds_count", 4),
    ),
    "18": (
        ("circulation_status", 2),
        ("security_marker", 2),
        ("fee_type", 2),
        ("transaction_date", DATE),
    ),
    "30": (
        ("ok", 1),
        ("renewal_ok", 1),
        ("magnetic_media", 1),
        ("desensitize", 1),
        ("transaction_date", DATE),
    ),
    "66": (
        ("ok", 1),
        ("renewed_count", 4),
        ("unrenewed_count", 4),
        ("transaction_date", DATE),
    ),
    "36": (("end_session", 1), ("transaction_date", DATE)),
}

# Which response answers which request.
RESPONSE_TO: dict[str, str] = {
    "93": "94",
    "99": "98",
    "23": "24",
    "63": "64",
    "17": "18",
    "29": "30",
    "65": "66",
    "35": "36",
}

# The two error-detection control messages carry a checksum but never a sequence number.
RESEND_REQUEST = "97"  # SC asks the ACS to send its last response again
RESEND_DEMAND = "96"  # ACS asks the SC to send its last request again


class F:
    """Variable-length field identifiers."""

    PATRON_ID = "AA"
    ITEM_ID = "AB"
    TERMINAL_PASSWORD = "AC"
    PATRON_PASSWORD = "AD"
    PERSONAL_NAME = "AE"
    SCREEN_MESSAGE = "AF"
    PRINT_LINE = "AG"
    DUE_DATE = "AH"
    TITLE = "AJ"
    LIBRARY_NAME = "AM"
    TERMINAL_LOCATION = "AN"
    INSTITUTION_ID = "AO"
    CURRENT_LOCATION = "AP"
    PERMANENT_LOCATION = "AQ"
    HOLD_ITEMS = "AS"
    OVERDUE_ITEMS = "AT"
    CHARGED_ITEMS = "AU"
    FINE_ITEMS = "AV"
    SEQUENCE = "AY"
    CHECKSUM = "AZ"
    EMAIL = "BE"
    CURRENCY = "BH"
    VALID_PATRON = "BL"
    RENEWED_ITEMS = "BM"
    UNRENEWED_ITEMS = "BN"
    FEE_ACKNOWLEDGED = "BO"
    START_ITEM = "BP"
    END_ITEM = "BQ"
    PICKUP_LOCATION = "BS"
    FEE_AMOUNT = "BV"
    SUPPORTED_MESSAGES = "BX"
    FEE_LIMIT = "CC"
    UNAVAILABLE_HOLD_ITEMS = "CD"
    HOLD_QUEUE_LENGTH = "CF"
    HOLD_PICKUP_DATE = "CM"
    LOGIN_USER = "CN"
    LOGIN_PASSWORD = "CO"
    LOCATION_CODE = "CP"
    VALID_PATRON_PASSWORD = "CQ"


# Fields whose values must never reach a log, an exception or a transcript.
SECRET_FIELDS = frozenset({F.PATRON_PASSWORD, F.LOGIN_PASSWORD, F.TERMINAL_PASSWORD})


class Summary(int, Enum):
    """Position of the single ``Y`` in the 63 summary field: which item list to send."""

    HOLD_ITEMS = 0  # holds available for pickup (AS)
    OVERDUE_ITEMS = 1  # AT
    CHARGED_ITEMS = 2  # AU
    FINE_ITEMS = 3  # AV
    RECALL_ITEMS = 4  # BU
    UNAVAILABLE_HOLDS = 5  # CD

    def field(self) -> str:
        return "Y".rjust(self.value + 1).ljust(10)


class PatronFlag(int, Enum):
    """Positions of the 14-character patron status field (``Y`` = condition applies)."""

    CHARGE_PRIVILEGES_DENIED = 0
    RENEWAL_PRIVILEGES_DENIED = 1
    RECALL_PRIVILEGES_DENIED = 2
    HOLD_PRIVILEGES_DENIED = 3
    CARD_REPORTED_LOST = 4
    TOO_MANY_ITEMS_CHARGED = 5
    TOO_MANY_ITEMS_OVERDUE = 6
    TOO_MANY_RENEWALS = 7
    TOO_MANY_CLAIMS_OF_ITEMS_RETURNED = 8
    TOO_MANY_ITEMS_LOST = 9
    EXCESSIVE_OUTSTANDING_FINES = 10
    EXCESSIVE_OUTSTANDING_FEES = 11
    RECALL_OVERDUE = 12
    TOO_MANY_ITEMS_BILLED = 13


def patron_flags(status: str) -> frozenset[PatronFlag]:
    """The conditions a patron status field reports (anything but blank/N counts as set)."""
    return frozenset(f for f in PatronFlag if f.value < len(status) and status[f.value] == "Y")


# Positions in the 98 "supported messages" (BX) field.
SUPPORTED_POSITION: dict[str, int] = {
    "23": 0,
    "11": 1,
    "09": 2,
    "01": 3,
    "99": 4,
    "97": 5,
    "93": 6,
    "63": 7,
    "35": 8,
    "37": 9,
    "17": 10,
    "19": 11,
    "25": 12,
    "15": 13,
    "29": 14,
    "65": 15,
}
