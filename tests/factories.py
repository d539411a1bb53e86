"""Factories for database records (factory_boy) and interchange documents."""

import itertools
import json

import factory

from guichet.dossiers.models import Consortium, ConsortiumMember, Organisation
from guichet.dossiers.services import import_dossier
from guichet.rules.siret import make_siret

_serial = itertools.count(1)


def fresh_siret() -> str:
    number = next(_serial)
    return make_siret(f"{40_000_000 + number:08d}", f"{number % 10_000:04d}")


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    siret = factory.LazyFunction(fresh_siret)
    name = factory.Sequence(lambda n: f"Organisme {n}")


class ConsortiumFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Consortium

    name = factory.Sequence(lambda n: f"Consortium {n}")


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConsortiumMember

    consortium = factory.SubFactory(ConsortiumFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.SelfAttribute("organisation.name")
    kind = "training_network"
    is_lead = False


def document_with_fresh_sirets(document: dict) -> dict:
    """The same dossier with members renumbered, so several can coexist in one database."""
    renumber = {member["siret"]: fresh_siret() for member in document["members"]}
    text = json.dumps(document)
    for old, new in renumber.items():
        text = text.replace(old, new)
    return json.loads(text)


def make_dossier(document: dict):
    """A draft dossier stored through the import service (fresh SIRETs each time)."""
    payload = json.dumps(document_with_fresh_sirets(document)).encode()
    return import_dossier(payload).dossier
