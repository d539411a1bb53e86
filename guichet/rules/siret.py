"""SIRET numbers: 14 digits, Luhn checksums, with La Poste's exception."""

LA_POSTE_SIREN = "356000000"
LA_POSTE_HEAD_OFFICE = "35600000000048"
# Each digit replaced by the digit sum of its double (7 -> 14 -> 5), for Luhn's doubled digits.
_DOUBLED = str.maketrans("0123456789", "0246813579")
_ZERO = ord("0")


def luhn_ok(digits: str) -> bool:
    """Luhn checksum of a string of ASCII digits (byte sums: this runs for every member)."""
    doubled = digits[-2::-2].translate(_DOUBLED)
    total = sum(digits[-1::-2].encode()) + sum(doubled.encode()) - _ZERO * len(digits)
    return total % 10 == 0


def is_valid_siret(siret: str) -> bool:
    """True when `siret` is 14 digits whose SIRET and SIREN checksums hold.

    La Poste's establishments all share SIREN 356000000 and are too many for the Luhn scheme,
    so INSEE numbers them with a digit sum that is a multiple of 5 instead; only its head office
    (35600000000048) keeps a Luhn-valid number.
    """
    if len(siret) != 14 or not siret.isascii() or not siret.isdigit():
        return False
    if siret.startswith(LA_POSTE_SIREN) and siret != LA_POSTE_HEAD_OFFICE:
        return sum(map(int, siret)) % 5 == 0
    return luhn_ok(siret) and luhn_ok(siret[:9])


def siren_of(siret: str) -> str:
    return siret[:9]


def luhn_digit(partial: str) -> str:
    """The digit that makes `partial` + digit Luhn-valid."""
    return next(digit for digit in "0123456789" if luhn_ok(partial + digit))


def make_siret(siren_stem: str, establishment: str) -> str:
    """A valid SIRET from 8 SIREN digits and 4 establishment digits (check digits added)."""
    siren = siren_stem + luhn_digit(siren_stem)
    partial = siren + establishment
    return partial + luhn_digit(partial)


def normalise_siret(text: str) -> str:
    """The SIRET as typed, without its spaces ("775 672 272 00017")."""
    return "".join(text.split())
