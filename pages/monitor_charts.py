"""The Monitor's charts: colours that mean something (failures red, nothing-to-do grey), and a shape that fits
the period: one day is a breakdown by outcome, a week or a month a daily bar per day with the empty days shown,
all time a line per outcome over every day."""

from __future__ import annotations

from datetime import date, timedelta

import altair as alt
import pandas as pd
import streamlit as st

from sync_core.domain.outcome_words import OUTCOMES, outcome_colour, outcome_label

#: Above this many days, bars get too thin to read: a line instead.
MAX_BAR_DAYS = 31


def _scale(labels: list[str]) -> alt.Scale:
    """Each outcome's own colour, in the legend's order (the order of ``OUTCOMES``)."""
    by_label = {outcome_label(outcome): outcome_colour(outcome) for outcome in OUTCOMES}
    ordered = [label for label in by_label if label in labels] + [x for x in labels if x not in by_label]
    return alt.Scale(domain=ordered, range=[by_label.get(label, "#8c8c8c") for label in ordered])


def daily_frame(rows: list[tuple], since: date | None, today: date) -> pd.DataFrame:
    """(day, outcome, contacts) rows with every day of the period present (0 where nothing happened), outcomes
    by their label."""
    frame = pd.DataFrame(rows, columns=["day", "outcome", "contacts"])
    if frame.empty:
        return frame.assign(Outcome=pd.Series(dtype=str))
    frame["day"] = pd.to_datetime(frame["day"]).dt.date
    start = since or min(frame["day"])
    days = [start + timedelta(days=n) for n in range((today - start).days + 1)]
    outcomes = list(dict.fromkeys(frame["outcome"]))
    full = pd.MultiIndex.from_product([days, outcomes], names=["day", "outcome"])
    frame = frame.groupby(["day", "outcome"], as_index=True)["contacts"].sum().reindex(full, fill_value=0)
    frame = frame.reset_index()
    frame["Outcome"] = frame["outcome"].map(outcome_label)
    return frame


def chart_kind(since: date | None, today: date, first_day: date | None) -> str:
    """``breakdown`` for one day, ``bars`` up to a month, ``line`` beyond."""
    start = since or first_day or today
    span = (today - start).days + 1
    if span <= 1:
        return "breakdown"
    return "bars" if span <= MAX_BAR_DAYS else "line"


def over_time(rows: list[tuple], since: date | None, today: date) -> None:
    frame = daily_frame(rows, since, today)
    if frame.empty:
        st.caption("Nothing synced in this period.")
        return
    kind = chart_kind(since, today, min(frame["day"]))
    labels = list(dict.fromkeys(frame["Outcome"]))
    colour = alt.Color("Outcome:N", scale=_scale(labels), legend=alt.Legend(orient="bottom", title=None))
    if kind == "breakdown":
        totals = frame.groupby("Outcome", as_index=False)["contacts"].sum()
        chart = (
            alt.Chart(totals)
            .mark_bar()
            .encode(
                y=alt.Y("Outcome:N", sort=_scale(labels).domain, title=None),
                x=alt.X("contacts:Q", title="Contacts"),
                color=colour,
                tooltip=["Outcome", "contacts"],
            )
        )
    elif kind == "bars":
        chart = (
            alt.Chart(frame.assign(Day=pd.to_datetime(frame["day"]).dt.strftime("%b %d")))
            .mark_bar()
            .encode(
                x=alt.X("Day:O", sort=None, title=None, axis=alt.Axis(labelAngle=-45)),
                y=alt.Y("sum(contacts):Q", title="Contacts"),
                color=colour,
                tooltip=["Day", "Outcome", "contacts"],
            )
        )
    else:
        chart = (
            alt.Chart(frame.assign(Day=pd.to_datetime(frame["day"])))
            .mark_line(point=False)
            .encode(
                x=alt.X("Day:T", title=None),
                y=alt.Y("contacts:Q", title="Contacts"),
                color=colour,
                tooltip=["Day", "Outcome", "contacts"],
            )
        )
    st.altair_chart(chart, width="stretch")


def by_category(rows: list[tuple], category: str, colour_by: str) -> None:
    """(category, outcome or change, contacts) as horizontal stacked bars with the outcomes' colours."""
    frame = pd.DataFrame(rows, columns=[category, colour_by, "contacts"])
    if colour_by == "outcome":
        frame["Outcome"] = frame["outcome"].map(outcome_label)
        labels = list(dict.fromkeys(frame["Outcome"]))
        colour = alt.Color("Outcome:N", scale=_scale(labels), legend=alt.Legend(orient="bottom", title=None))
    else:
        frame["Change"] = frame[colour_by].map({"added": "Added", "removed": "Removed"}).fillna(frame[colour_by])
        colour = alt.Color(
            "Change:N",
            scale=alt.Scale(domain=["Added", "Removed"], range=["#1a9850", "#fdae61"]),
            legend=alt.Legend(orient="bottom", title=None),
        )
    chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            y=alt.Y(f"{category}:N", title=None),
            x=alt.X("sum(contacts):Q", title="Contacts"),
            color=colour,
            tooltip=[category, "contacts"],
        )
    )
    st.altair_chart(chart, width="stretch")
