"""The hybridation profile, a model every dossier of every call had, becomes the answers to a
section of the call's definition (guichet.rules.sections).

- Each call whose stored definition declares no sections is given the section the code used to
  impose on all calls (frozen below, as Deffinum's definition now declares it): its dossiers'
  answers keep their meaning and their labels. Its rules version is not changed: the form and
  the rules its dossiers were judged against are the same, only said as data.
- Each profile becomes the dossier's answers under the same ids (blank texts, missing shares
  and empty targets are no answer), and keeps its version.
"""

import hashlib

import msgspec
from django.db import migrations, models

LEGACY_SECTION = {'id': 'hybridation',
 'label': 'Hybridation',
 'label_en': 'Hybrid training',
 'questions': [{'id': 'synchronous_share',
                'label': 'Temps synchrone (%)',
                'label_en': 'Synchronous time (%)',
                'type': 'number',
                'required': False,
                'help': '',
                'help_en': '',
                'when': None,
                'multiline': False,
                'max_length': 2000,
                'minimum': '0',
                'maximum': '100',
                'decimals': 0,
                'unit': '%',
                'choices': [],
                'columns': [],
                'max_rows': 50},
               {'id': 'asynchronous_share',
                'label': 'Temps asynchrone (%)',
                'label_en': 'Asynchronous time (%)',
                'type': 'number',
                'required': False,
                'help': '',
                'help_en': '',
                'when': None,
                'multiline': False,
                'max_length': 2000,
                'minimum': '0',
                'maximum': '100',
                'decimals': 0,
                'unit': '%',
                'choices': [],
                'columns': [],
                'max_rows': 50},
               {'id': 'in_person_share',
                'label': 'En présentiel, centre ou tiers-lieu (%)',
                'label_en': 'In person, in a centre or third place (%)',
                'type': 'number',
                'required': False,
                'help': '',
                'help_en': '',
                'when': None,
                'multiline': False,
                'max_length': 2000,
                'minimum': '0',
                'maximum': '100',
                'decimals': 0,
                'unit': '%',
                'choices': [],
                'columns': [],
                'max_rows': 50},
               {'id': 'distance_share',
                'label': 'À distance (%)',
                'label_en': 'At a distance (%)',
                'type': 'number',
                'required': False,
                'help': '',
                'help_en': '',
                'when': None,
                'multiline': False,
                'max_length': 2000,
                'minimum': '0',
                'maximum': '100',
                'decimals': 0,
                'unit': '%',
                'choices': [],
                'columns': [],
                'max_rows': 50},
               {'id': 'work_situation_share',
                'label': 'En situation de travail, AFEST (%)',
                'label_en': 'In a work situation, AFEST (%)',
                'type': 'number',
                'required': False,
                'help': '',
                'help_en': '',
                'when': None,
                'multiline': False,
                'max_length': 2000,
                'minimum': '0',
                'maximum': '100',
                'decimals': 0,
                'unit': '%',
                'choices': [],
                'columns': [],
                'max_rows': 50},
               {'id': 'immersive_tools',
                'label': 'Outils immersifs',
                'label_en': 'Immersive tools',
                'type': 'text',
                'required': False,
                'help': '',
                'help_en': '',
                'when': None,
                'multiline': True,
                'max_length': 2000,
                'minimum': None,
                'maximum': None,
                'decimals': 0,
                'unit': '',
                'choices': [],
                'columns': [],
                'max_rows': 50},
               {'id': 'positioning_tools',
                'label': 'Outils numériques de positionnement',
                'label_en': 'Digital positioning tools',
                'type': 'text',
                'required': False,
                'help': '',
                'help_en': '',
                'when': None,
                'multiline': True,
                'max_length': 2000,
                'minimum': None,
                'maximum': None,
                'decimals': 0,
                'unit': '',
                'choices': [],
                'columns': [],
                'max_rows': 50},
               {'id': 'learners_targeted',
                'label': 'Publics visés',
                'label_en': 'Learners targeted',
                'type': 'text',
                'required': False,
                'help': '',
                'help_en': '',
                'when': None,
                'multiline': True,
                'max_length': 2000,
                'minimum': None,
                'maximum': None,
                'decimals': 0,
                'unit': '',
                'choices': [],
                'columns': [],
                'max_rows': 50},
               {'id': 'trades_targeted',
                'label': 'Métiers visés',
                'label_en': 'Trades targeted',
                'type': 'text',
                'required': False,
                'help': '',
                'help_en': '',
                'when': None,
                'multiline': True,
                'max_length': 2000,
                'minimum': None,
                'maximum': None,
                'decimals': 0,
                'unit': '',
                'choices': [],
                'columns': [],
                'max_rows': 50},
               {'id': 'indicator_targets',
                'label': 'Cibles des indicateurs',
                'label_en': 'Indicator targets',
                'type': 'indicators',
                'required': False,
                'help': '',
                'help_en': '',
                'when': None,
                'multiline': False,
                'max_length': 2000,
                'minimum': None,
                'maximum': None,
                'decimals': 0,
                'unit': '',
                'choices': [],
                'columns': [],
                'max_rows': 50}],
 'intro': "Profil d'hybridation des formations (critère 5 de l'appel).",
 'intro_en': 'How the project hybridises training (criterion 5 of the call).',
 'totals': [{'questions': ['synchronous_share', 'asynchronous_share'],
             'equals': '100',
             'message': 'Les temps synchrone et asynchrone doivent totaliser 100 %.',
             'message_en': 'Synchronous and asynchronous time must add up to 100 %.'},
            {'questions': ['in_person_share', 'distance_share', 'work_situation_share'],
             'equals': '100',
             'message': 'Présentiel, distance et situation de travail doivent totaliser 100 %.',
             'message_en': 'In person, distance and work situation must add up to 100 %.'}]}

LEGACY_FIELDS = ("synchronous_share", "asynchronous_share", "in_person_share", "distance_share",
                 "work_situation_share", "immersive_tools", "positioning_tools",
                 "learners_targeted", "trades_targeted", "indicator_targets")


def definitions_declare_the_section(apps, schema_editor):
    for call in apps.get_model("calls", "Call").objects.all():
        if call.definition.get("sections"):
            continue
        call.definition = {**call.definition, "sections": [LEGACY_SECTION]}
        call.definition_sha256 = hashlib.sha256(
            msgspec.json.encode(call.definition, order="sorted")).hexdigest()
        call.save(update_fields=["definition", "definition_sha256"])


def profiles_become_answers(apps, schema_editor):
    answers = apps.get_model("dossiers", "DossierAnswers")
    for profile in apps.get_model("dossiers", "HybridProfile").objects.iterator():
        values = {}
        for name in LEGACY_FIELDS:
            value = getattr(profile, name)
            if isinstance(value, str):
                value = value.strip()
            if value not in (None, "", {}):
                values[name] = value
        answers.objects.create(dossier_id=profile.dossier_id, values=values,
                               version=profile.version)


def answers_become_profiles(apps, schema_editor):
    profiles = apps.get_model("dossiers", "HybridProfile")
    for row in apps.get_model("dossiers", "DossierAnswers").objects.iterator():
        known = {name: row.values[name] for name in LEGACY_FIELDS if name in row.values}
        profiles.objects.create(dossier_id=row.dossier_id, version=row.version, **known)


class Migration(migrations.Migration):

    dependencies = [
        ("calls", "0003_mail_texts"),
        ("dossiers", "0010_personal_data_erased_at"),
    ]

    operations = [
        migrations.CreateModel(
            name="DossierAnswers",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                           verbose_name="ID")),
                ("values", models.JSONField(default=dict)),
                ("version", models.PositiveIntegerField(default=1)),
                ("dossier", models.OneToOneField(on_delete=models.deletion.CASCADE,
                                                 related_name="answers",
                                                 to="dossiers.dossier")),
            ],
        ),
        migrations.RunPython(definitions_declare_the_section, migrations.RunPython.noop),
        migrations.RunPython(profiles_become_answers, answers_become_profiles),
        migrations.DeleteModel(name="HybridProfile"),
    ]
