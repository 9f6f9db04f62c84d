"""The five transformation goals, the levels of the design and the respondent kinds."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from lerendtransformeren.vocabulary import RESPONDENT_KINDS  # noqa: F401 (re-exported)


@dataclass(frozen=True)
class Goal:
    """One transformation goal (transformatiedoel)."""

    code: int
    short: str
    name_nl: str
    name_en: str
    description_nl: str
    description_en: str
    workplace: str


GOALS: tuple[Goal, ...] = (
    Goal(
        1,
        "preventie",
        "Preventie en eigen kracht",
        "Prevention and own strength",
        "Uitgaan van de eigen verantwoordelijkheid en mogelijkheden van jeugdigen en ouders, "
        "met hun sociale netwerk, en eerder voorkomen dan genezen.",
        "Build on the responsibility and capabilities of young people and parents, with "
        "their social network, and prevent rather than cure.",
        "Academische Werkplaats Transformatie Jeugd C4Youth 2.0",
    ),
    Goal(
        2,
        "normaliseren",
        "Demedicaliseren en normaliseren",
        "Demedicalising and normalising",
        "Gewone opvoedvragen gewoon houden en het pedagogisch klimaat versterken in gezinnen, "
        "wijken, scholen en kinderopvang.",
        "Keep ordinary parenting questions ordinary and strengthen the pedagogical climate "
        "in families, neighbourhoods, schools and childcare.",
        "Academische Werkplaats Samen voor de Jeugd",
    ),
    Goal(
        3,
        "hulp_op_maat",
        "Eerder de juiste hulp op maat",
        "The right help earlier",
        "Sneller passende hulp bieden zodat minder dure gespecialiseerde zorg nodig is.",
        "Offer fitting help sooner, so that less expensive specialised care is needed.",
        "Academische Werkplaats InsideOut",
    ),
    Goal(
        4,
        "integrale_hulp",
        "Integrale hulp: één gezin, één plan, één regisseur",
        "Integrated help: one family, one plan, one coordinator",
        "Samenhangende hulp aan gezinnen met één plan en één regisseur, over de schotten van "
        "budgetten en organisaties heen.",
        "Coherent help for families with one plan and one coordinator, across the boundaries "
        "of budgets and organisations.",
        "Academische Werkplaats Risicojeugd",
    ),
    Goal(
        5,
        "ruimte_professionals",
        "Meer ruimte voor professionals",
        "More room for professionals",
        "Minder regeldruk, zodat professionals de juiste hulp kunnen bieden en samenwerken met "
        "netwerken, vrijwilligers en familie.",
        "Less regulatory burden, so professionals can give the right help and work with "
        "networks, volunteers and relatives.",
        "Transformatie Werkplaats Gezin aan Zet",
    ),
)

#: Levels of the design, top to bottom. ``respondent`` stands for the id column of the
#: respondent kind at hand (``professional``, ``family`` or ``youth``).
LEVELS: tuple[str, ...] = ("goal", "organisation", "team", "respondent", "wave")



def goal(code: int) -> Goal:
    """Return the goal with this code (1..5).

    >>> goal(4).name_en
    'Integrated help: one family, one plan, one coordinator'
    """
    for g in GOALS:
        if g.code == code:
            return g
    raise KeyError(f"There is no transformation goal {code!r}; goals are numbered 1 to 5.")


def goals_table() -> pd.DataFrame:
    """The five goals as a DataFrame indexed by code.

    >>> goals_table().loc[3, "workplace"]
    'Academische Werkplaats InsideOut'
    """
    rows = [g.__dict__ for g in GOALS]
    return pd.DataFrame(rows).set_index("code")
