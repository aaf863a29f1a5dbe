"""The people behind the figures in the synthetic district: victim assistance, the missing, remains finds.

Added to a district after its casualties and clearance are written (``add_people``, one call in
``write_district``), from a random stream of its own (``[seed, 2101]``), so nothing the district
held before changes: the same accidents, victims, finds and figures, and these layers beside them.

What it draws, and why it looks like the real problem:

* **Victim assistance.** Most survivors are assessed by a victim assistance programme within weeks,
  a quarter never are (the survivors a victims' association keeps looking for). Emergency care is
  received on the day; prosthetics, physical rehabilitation and pensions follow slowly and are often
  still referred or waiting at the as-of date; psychosocial support and employment are the most often
  unmet. Families of people killed are assessed less often (a pension, psychosocial support, school).
* **The missing.** The registry lists people missing since the first war (1992–1994) and the second
  (autumn 2020), most near the former front line, some from villages. Each human remains find
  belongs to one of them (the truth, kept in the store's metadata ``generator.missing_truth``), whose
  last known place is within its stated uncertainty of the find; the other cases are the many whose
  remains have not been found. A few more remains are found outside clearance (reported by residents,
  secured by an EOD team) near the former front.
* **Handovers and decisions.** Every find is handed over within days (mostly to the State Commission);
  the older finds have been linked to their case by the commission, a few identified.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import numpy as np
import shapely

from safeground.generator.accidents import FIRST_NAMES_F, FIRST_NAMES_M, SURNAMES
from safeground.geometry.projection import from_wgs84
from safeground.model import Accident, HumanRemainsFind, Record, Victim
from safeground.model.assistance import (
    AssistanceAssessment,
    AssistanceCategory,
    AssistanceService,
    AssistanceStatus,
    Disability,
    Recipient,
)
from safeground.model.missing import (
    CaseState,
    Circumstances,
    LinkState,
    MissingPerson,
    ReceivingBody,
    RemainsCaseLink,
    RemainsHandover,
)
from safeground.model.vocab import DeviceType, Sex
from safeground.storage.base import Store

#: the generator's own random stream: a seed of its own beside the district's
STREAM = 2101
ENTERED_BY = "safeground-generator"
COMMISSION = "State Commission on Missing Persons (demo)"
#: share of survivors a victim assistance programme has assessed by the as-of date
SURVIVORS_ASSESSED = 0.72
FAMILIES_ASSESSED = 0.45
#: missing persons whose remains are not (yet) found, per find, and at least
OTHER_CASES_PER_FIND = 3.0
MIN_OTHER_CASES = 30
#: remains found outside clearance (residents, EOD call-outs) in a 20 × 20 km district
EXTRA_FINDS = 8.0
#: last known place uncertainty (m): a named position, a hill or sector, a village's lands; and how often each
#: (a unit's position is usually named in the commission's questionnaire; a civilian's often only the village)
UNCERTAINTY_M = (300.0, 800.0, 1500.0)
UNCERTAINTY_P = (0.45, 0.35, 0.2)

_PROVIDERS = {
    AssistanceCategory.EMERGENCY_MEDICAL: "District central hospital (demo)",
    AssistanceCategory.CONTINUING_MEDICAL: "District central hospital (demo)",
    AssistanceCategory.PHYSICAL_REHABILITATION: "Regional rehabilitation centre (demo)",
    AssistanceCategory.PROSTHETICS: "National prosthetic-orthopaedic centre (demo)",
    AssistanceCategory.PSYCHOSOCIAL: "Survivors' association peer support (demo)",
    AssistanceCategory.EDUCATION: "District education department (demo)",
    AssistanceCategory.EMPLOYMENT: "State employment agency (demo)",
    AssistanceCategory.PENSION: "Ministry of Labour and Social Protection (demo)",
}
#: (status, probability) of each category once needed
_OUTCOMES: dict[AssistanceCategory, tuple[tuple[AssistanceStatus, float], ...]] = {
    AssistanceCategory.EMERGENCY_MEDICAL: ((AssistanceStatus.RECEIVED, 1.0),),
    AssistanceCategory.CONTINUING_MEDICAL: ((AssistanceStatus.RECEIVED, 0.6), (AssistanceStatus.RECEIVING, 0.3),
                                            (AssistanceStatus.REFERRED, 0.1)),
    AssistanceCategory.PHYSICAL_REHABILITATION: ((AssistanceStatus.RECEIVING, 0.45), (AssistanceStatus.RECEIVED, 0.1),
                                                 (AssistanceStatus.REFERRED, 0.25), (AssistanceStatus.NEEDED, 0.1),
                                                 (AssistanceStatus.NOT_AVAILABLE, 0.1)),
    AssistanceCategory.PROSTHETICS: ((AssistanceStatus.RECEIVED, 0.45), (AssistanceStatus.REFERRED, 0.3),
                                     (AssistanceStatus.NEEDED, 0.25)),
    AssistanceCategory.PSYCHOSOCIAL: ((AssistanceStatus.RECEIVING, 0.25), (AssistanceStatus.RECEIVED, 0.05),
                                      (AssistanceStatus.REFERRED, 0.25), (AssistanceStatus.NEEDED, 0.3),
                                      (AssistanceStatus.NOT_AVAILABLE, 0.1), (AssistanceStatus.DECLINED, 0.05)),
    AssistanceCategory.EDUCATION: ((AssistanceStatus.RECEIVING, 0.55), (AssistanceStatus.REFERRED, 0.25),
                                   (AssistanceStatus.NEEDED, 0.2)),
    AssistanceCategory.EMPLOYMENT: ((AssistanceStatus.RECEIVING, 0.2), (AssistanceStatus.REFERRED, 0.3),
                                    (AssistanceStatus.NEEDED, 0.4), (AssistanceStatus.NOT_AVAILABLE, 0.1)),
    AssistanceCategory.PENSION: ((AssistanceStatus.RECEIVING, 0.55), (AssistanceStatus.REFERRED, 0.3),
                                 (AssistanceStatus.NEEDED, 0.15)),
}  # fmt: skip


def _pick(rng: np.random.Generator, options: tuple[tuple[AssistanceStatus, float], ...]) -> AssistanceStatus:
    p = np.array([w for _, w in options])
    return options[int(rng.choice(len(options), p=p / p.sum()))][0]


class _People:
    """Draws the records; uids continue each layer's numbering."""

    def __init__(self, d: object, store: Store, rng: np.random.Generator) -> None:
        self.d = d
        self.store = store
        self.rng = rng
        self.as_of: date = d.cfg.as_of  # type: ignore[attr-defined]
        self.counters: dict[str, int] = {}

    def uid(self, prefix: str) -> str:
        self.counters[prefix] = self.counters.get(prefix, 0) + 1
        return f"{prefix}-{self.counters[prefix]:05d}"

    def days(self, median: float, sigma: float = 0.8) -> timedelta:
        return timedelta(days=round(self.rng.lognormal(np.log(max(median, 0.5)), sigma)))

    def clip(self, d: date) -> date:
        return min(d, self.as_of)

    # -- victim assistance ------------------------------------------------------------------------------
    def assistance(self) -> list[Record]:
        rng = self.rng
        acc = {a.uid: a for a in self.store.find(Accident)}
        out: list[Record] = []
        for v in sorted(self.store.find(Victim), key=lambda r: r.uid):
            a = acc.get(v.accident_uid)
            when = a.accident_date if a is not None else None
            if when is None or when >= self.as_of:
                continue
            survivor = v.outcome == "injured"
            if rng.random() >= (SURVIVORS_ASSESSED if survivor else FAMILIES_ASSESSED):
                continue
            assessed = self.clip(when + self.days(21 if survivor else 60))
            who = Recipient.SURVIVOR if survivor else Recipient.FAMILY
            disabilities: list[Disability] = []
            if survivor:
                blast = a is not None and a.device_type in (DeviceType.AP_MINE, DeviceType.UNSPECIFIED_MINE)
                if rng.random() < (0.6 if blast else 0.2):
                    disabilities.append(Disability.LOWER_LIMB_AMPUTATION)
                if rng.random() < 0.08:
                    disabilities.append(Disability.UPPER_LIMB_AMPUTATION)
                if rng.random() < 0.12:
                    disabilities.append(Disability.VISUAL)
                if rng.random() < 0.1:
                    disabilities.append(Disability.HEARING)
                if not disabilities and rng.random() < 0.4:
                    disabilities.append(Disability.OTHER_PHYSICAL)
                if rng.random() < 0.3:
                    disabilities.append(Disability.PSYCHOSOCIAL)
                disabilities = disabilities or [Disability.NONE]
            out.append(
                AssistanceAssessment(
                    uid=self.uid("VAA"),
                    date_of_information=assessed,
                    entered_by=ENTERED_BY,
                    victim_uid=v.uid,
                    recipient=who,
                    assessed_on=assessed,
                    assessed_by="Victim assistance focal point (demo)",
                    disabilities=disabilities,
                )
            )
            out += self._services(v, when, assessed, who, disabilities)
        return out

    def _services(
        self, v: Victim, when: date, assessed: date, who: Recipient, disabilities: list[Disability]
    ) -> list[Record]:
        rng = self.rng
        c = AssistanceCategory
        needs: list[AssistanceCategory] = []
        physical = {Disability.LOWER_LIMB_AMPUTATION, Disability.UPPER_LIMB_AMPUTATION, Disability.OTHER_PHYSICAL}
        child = v.age is not None and v.age < 18
        if who is Recipient.SURVIVOR:
            needs.append(c.EMERGENCY_MEDICAL)
            if rng.random() < 0.7:
                needs.append(c.CONTINUING_MEDICAL)
            if physical & set(disabilities):
                needs.append(c.PHYSICAL_REHABILITATION)
            if {Disability.LOWER_LIMB_AMPUTATION, Disability.UPPER_LIMB_AMPUTATION} & set(disabilities):
                needs.append(c.PROSTHETICS)
            if Disability.PSYCHOSOCIAL in disabilities or rng.random() < 0.35:
                needs.append(c.PSYCHOSOCIAL)
            if child:
                needs.append(c.EDUCATION)
            elif rng.random() < 0.5:
                needs.append(c.EMPLOYMENT)
            if set(disabilities) - {Disability.NONE}:
                needs.append(c.PENSION)
        else:
            needs += [c.PENSION] + ([c.PSYCHOSOCIAL] if rng.random() < 0.6 else [])
            if rng.random() < 0.3:
                needs.append(c.EDUCATION)  # the children of the person killed
        out: list[Record] = []
        for cat in needs:
            status = _pick(rng, _OUTCOMES[cat])
            since = when if cat is c.EMERGENCY_MEDICAL else assessed
            referred = started = completed = None
            if cat is c.EMERGENCY_MEDICAL:
                started = completed = when + timedelta(days=int(rng.random() < 0.15))
            else:
                if status is not AssistanceStatus.NEEDED:
                    referred = self.clip(since + self.days(14))
                if status.started:
                    started = self.clip((referred or since) + self.days(45 if cat is not c.PROSTHETICS else 120))
                if status is AssistanceStatus.RECEIVED:
                    completed = self.clip(started + self.days(60)) if started else None  # type: ignore[operator]
                if started is not None and started >= self.as_of:  # help had not started by the as-of date
                    status, started, completed = AssistanceStatus.REFERRED, None, None
            last = max(d for d in (since, referred, started, completed) if d is not None)
            follow = self.clip(last + self.days(40)) if status is not AssistanceStatus.RECEIVED else None
            if follow is not None and follow < last:
                follow = last
            info = max(d for d in (last, follow) if d is not None)
            out.append(
                AssistanceService(
                    uid=self.uid("VAS"),
                    date_of_information=info,
                    entered_by=ENTERED_BY,
                    victim_uid=v.uid,
                    recipient=who,
                    category=cat,
                    status=status,
                    needed_since=since,
                    provider=_PROVIDERS[cat] if status is not AssistanceStatus.NEEDED else None,
                    referred_on=referred,
                    started_on=started,
                    completed_on=completed,
                    last_follow_up=follow,
                    next_follow_up=(follow + timedelta(days=90))
                    if follow is not None and status is not AssistanceStatus.DECLINED
                    else None,
                )
            )
        return out

    # -- the missing --------------------------------------------------------------------------------------
    def local(self, geom: shapely.Geometry) -> np.ndarray:
        t = from_wgs84(self.d.epsg)  # type: ignore[attr-defined]
        ox, oy = self.d.origin  # type: ignore[attr-defined]
        x, y = t.transform(geom.x, geom.y)
        return np.array([x - ox, y - oy])

    def name(self, sex: Sex) -> str:
        first = self.rng.choice(FIRST_NAMES_F if sex is Sex.FEMALE else FIRST_NAMES_M)
        return f"{first} {self.rng.choice(SURNAMES)}"

    def extra_finds(self, first: int) -> list[HumanRemainsFind]:
        """Remains found outside clearance near the former front: by residents, secured by an EOD team."""
        d, rng = self.d, self.rng
        line = d.land.front_line  # type: ignore[attr-defined]
        size = d.land.size  # type: ignore[attr-defined]
        n = int(rng.poisson(EXTRA_FINDS * d.cfg.scale))  # type: ignore[attr-defined]
        out = []
        for k in range(n):
            for _ in range(50):
                p = line.interpolate(rng.uniform(0, line.length))
                xy = np.array([p.x, p.y]) + rng.normal(0, 600, 2)
                if 50 < xy[0] < size - 50 and 50 < xy[1] < size - 50:
                    break
            when = d.cfg.return_date + timedelta(days=int(rng.integers(20, (self.as_of - d.cfg.return_date).days)))  # type: ignore[attr-defined]
            ((lon, lat),) = d.lonlat(xy)  # type: ignore[attr-defined]
            out.append(
                HumanRemainsFind(
                    uid=f"HRF-{first + k:05d}",
                    date_of_information=when,
                    entered_by=ENTERED_BY,
                    find_date=when,
                    description="skeletal remains reported by a resident, secured by an EOD team",
                    handed_to=COMMISSION,
                    geometry=shapely.Point(lon, lat),
                )
            )
        return out

    def missing(self, finds: list[HumanRemainsFind]) -> tuple[list[Record], dict[str, str]]:
        d, rng = self.d, self.rng
        line = d.land.front_line  # type: ignore[attr-defined]
        size = d.land.size  # type: ignore[attr-defined]
        settlements = d.land.settlements  # type: ignore[attr-defined]
        cases: list[MissingPerson] = []
        truth: dict[str, str] = {}

        def case(xy: np.ndarray, circumstances: Circumstances, unc: float, second_war: bool) -> MissingPerson:
            sex = Sex.MALE if rng.random() < (0.92 if circumstances is Circumstances.COMBATANT_FRONT_LINE else 0.55) \
                else Sex.FEMALE  # fmt: skip
            day = (date(2020, 9, 27) + timedelta(days=int(rng.integers(0, 45)))) if second_war \
                else (date(1992, 1, 1) + timedelta(days=int(rng.integers(0, 365 * 2 + 135))))  # fmt: skip
            year = day.year
            when: date | None = day
            if not second_war and rng.random() < 0.25:
                when = None  # the family knows the year only
            born = year - int(rng.integers(18, 45) if circumstances is Circumstances.COMBATANT_FRONT_LINE
                              else rng.integers(5, 80))  # fmt: skip
            ((lon, lat),) = d.lonlat(np.clip(xy, 1, size - 1))  # type: ignore[attr-defined]
            uid = self.uid("MP")
            return MissingPerson(
                uid=uid,
                date_of_information=date(2021, 3, 1),
                entered_by=ENTERED_BY,
                case_reference=f"SCMP-{year}-{int(rng.integers(100, 9999)):04d}",
                full_name=self.name(sex),
                sex=sex,
                birth_year=born,
                date_missing=when,
                year_missing=year,
                last_known_place=f"{'near' if unc < 1000 else 'in the lands of'} "
                f"{min(settlements, key=lambda s: s.center.distance(shapely.Point(*xy))).name}",
                place_uncertainty_m=unc,
                circumstances=circumstances,
                family_contact=f"+994 50 {int(rng.integers(100, 999))} {int(rng.integers(10, 99))} "
                f"{int(rng.integers(10, 99))}",
                reported_by="family" if rng.random() < 0.7 else "military unit",
                geometry=shapely.Point(lon, lat),
            )

        front = [Circumstances.COMBATANT_FRONT_LINE, Circumstances.CROSSING, Circumstances.CIVILIAN_FLIGHT]
        for f in finds:
            unc = float(rng.choice(UNCERTAINTY_M, p=UNCERTAINTY_P))
            xy = self.local(f.geometry) + rng.normal(0, unc / 2, 2)  # the find is within the place's uncertainty
            circ = front[int(rng.choice(3, p=[0.7, 0.15, 0.15]))]
            c = case(xy, circ, unc, second_war=rng.random() < 0.25)
            cases.append(c)
            truth[f.uid] = c.uid
        n_other = max(MIN_OTHER_CASES, round(OTHER_CASES_PER_FIND * len(finds)))
        for _ in range(n_other):
            unc = float(rng.choice(UNCERTAINTY_M, p=UNCERTAINTY_P))
            if rng.random() < 0.65:  # along the former front, where the fighting was
                p = line.interpolate(rng.uniform(0, line.length))
                xy = np.array([p.x, p.y]) + rng.normal(0, 1500, 2)
                circ = front[int(rng.choice(3, p=[0.6, 0.2, 0.2]))]
            else:  # from a village: at home, or during the flight
                s = settlements[int(rng.integers(len(settlements)))]
                xy = np.array([s.center.x, s.center.y]) + rng.normal(0, 700, 2)
                circ = Circumstances.CIVILIAN_AT_HOME if rng.random() < 0.5 else Circumstances.CIVILIAN_FLIGHT
            cases.append(case(xy, circ, unc, second_war=rng.random() < 0.2))
        order = rng.permutation(len(cases))  # the registry's numbering says nothing about who was found
        renumbered = [cases[i] for i in order]
        new_uid = {c.uid: f"MP-{k + 1:05d}" for k, c in enumerate(renumbered)}
        cases = [c.model_copy(update={"uid": new_uid[c.uid]}) for c in renumbered]
        truth = {f: new_uid[c] for f, c in truth.items()}
        return list(cases), truth

    def decisions(self, finds: list[HumanRemainsFind], truth: dict[str, str], cases: list[Record]) -> list[Record]:
        """Handovers of every find; the commission's links for finds older than half a year."""
        rng = self.rng
        out: list[Record] = []
        state: dict[str, CaseState] = {}
        for f in sorted(finds, key=lambda r: r.uid):
            handed = self.clip(f.find_date + timedelta(days=int(rng.integers(1, 10))))
            body = ReceivingBody.STATE_COMMISSION if rng.random() < 0.85 else ReceivingBody.FORENSIC_TEAM
            out.append(
                RemainsHandover(
                    uid=self.uid("RHO"),
                    date_of_information=handed,
                    entered_by=ENTERED_BY,
                    find_uid=f.uid,
                    handed_on=handed,
                    receiving_body=body,
                    received_by="duty officer" if body is ReceivingBody.STATE_COMMISSION else "forensic team leader",
                    handed_by=f.organisation_uid or "EOD team",
                    reference=f"act {f.uid.split('-')[-1]}/{f.find_date.year}",
                )
            )
            if (self.as_of - f.find_date).days > 180 and rng.random() < 0.6:
                identified = rng.random() < 0.4
                decided = self.clip(handed + timedelta(days=int(rng.integers(20, 150))))
                out.append(
                    RemainsCaseLink(
                        uid=self.uid("RCL"),
                        date_of_information=decided,
                        entered_by=ENTERED_BY,
                        find_uid=f.uid,
                        case_uid=truth[f.uid],
                        state=LinkState.IDENTIFIED if identified else LinkState.CANDIDATE,
                        decided_by=COMMISSION,
                        decided_on=decided,
                        reasons="matched by the commission from the family's questionnaire",
                    )
                )
                state[truth[f.uid]] = CaseState.IDENTIFIED if identified else CaseState.CANDIDATE
        for k, c in enumerate(cases):
            if c.uid in state:
                cases[k] = c.model_copy(update={"case_state": state[c.uid]})
        return out


def add_people(d: object, store: Store) -> dict[str, int]:
    """Write victim assistance, the missing-persons registry, extra remains finds, handovers and links.

    Runs inside ``write_district``'s transaction after the casualties and finds are written, with a
    random stream of its own; returns the records written per layer."""
    cfg = d.cfg  # type: ignore[attr-defined]
    rng = np.random.default_rng([cfg.seed, STREAM])
    p = _People(d, store, rng)
    out: list[Record] = p.assistance()
    known = sorted(store.find(HumanRemainsFind), key=lambda r: r.uid)
    extra = p.extra_finds(store.max_uid_number(HumanRemainsFind) + 1)
    finds = known + extra
    cases, truth = p.missing(finds)
    decisions = p.decisions(finds, truth, cases)  # also sets the cases' states
    records = [*out, *extra, *cases, *decisions]
    store.add_many(records)
    store.set_meta("generator.missing_truth", json.dumps(truth, sort_keys=True))
    counts: dict[str, int] = {}
    for r in records:
        counts[r.LAYER] = counts.get(r.LAYER, 0) + 1
    return counts
