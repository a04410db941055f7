"""`flask shop festival-notify`: one launch e-mail per subscriber, however often it runs."""

from __future__ import annotations

from collections import Counter
from email import message_from_string, policy

from sqlalchemy import select

from shop.catalog.festival_models import Festival, Phase
from shop.extensions import db
from shop.festivals import reminders
from shop.festivals.models import FestivalReminder
from tests.conftest import outbox
from tests.test_concurrency import run_together


def subscribe(festival, *users):
    for user in users:
        reminders.remind_me(user, festival, now=festival.preheat_at)
    db.session.commit()


def notify(app):
    result = app.test_cli_runner().invoke(args=["shop", "festival-notify", "--batch", "2"])
    assert result.exit_code == 0, f"{result.output}\n{result.exception!r}"
    db.session.expire_all()
    return result


def test_notify_mails_each_subscriber_of_a_selling_festival_once(
    app, make_user, make_contact, make_festival, make_festival_item, make_product
):
    selling = make_festival(phase=Phase.launch, name="Autumn Fair")
    make_festival_item(selling, make_product(employee_price=7_000).variants[0], 5, employee_price=5_000)
    waiting = make_festival(phase=Phase.preheat, name="Winter Fair")
    over = make_festival(phase=Phase.ended, name="Summer Fair")
    employees = [make_user() for _ in range(4)]
    contact = make_contact(employees[0])
    gone = make_user(active=False)
    subscribe(selling, *employees, contact, gone)
    subscribe(waiting, employees[0])
    subscribe(over, employees[1])

    first = notify(app)
    assert "sent 5 reminder(s), 0 already sent by another run; 1 festival(s) fully notified" in first.stdout
    assert "Launch reminders" in first.stderr  # the progress bar
    mails = outbox(app)
    assert sorted(m.split("To: ")[1].split("\n")[0] for m in mails) == sorted(u.email for u in (*employees, contact))
    message = message_from_string(next(m for m in mails if employees[1].email in m), policy=policy.default)
    assert message["Subject"] == "Autumn Fair is open: buy now"
    message = message.get_content()
    assert f"http://shop.neigou.test/festivals/{selling.slug}" in message
    assert "CN¥50.00 instead of CN¥70.00" in message  # the festival price beside the usual one
    notified = dict(
        db.session.execute(
            select(FestivalReminder.user_id, FestivalReminder.notified_at).where(
                FestivalReminder.festival_id == selling.id
            )
        ).all()
    )
    assert all(notified[u.id] is not None for u in (*employees, contact)) and notified[gone.id] is None
    assert db.session.get(Festival, selling.id).notified_at is not None
    assert db.session.get(Festival, waiting.id).notified_at is None

    second = notify(app)
    assert "sent 0 reminder(s), 0 already sent by another run; 0 festival(s) fully notified" in second.stdout
    assert len(outbox(app)) == 5


def test_a_reminder_claimed_by_another_run_is_not_mailed_again(app, make_user, make_festival):
    festival = make_festival(phase=Phase.launch)
    subscribe(festival, make_user(), make_user())
    due = reminders.reminders_due()
    db.session.commit()
    assert [reminders.send_launch_reminder(r) for r in due] == [True, True]
    db.session.commit()
    assert [reminders.send_launch_reminder(r) for r in due] == [False, False]
    db.session.commit()
    assert len(outbox(app)) == 2


def test_a_rolled_back_claim_sends_nothing_and_stays_due(app, make_user, make_festival):
    festival = make_festival(phase=Phase.launch)
    subscribe(festival, make_user())
    [reminder_id] = reminders.reminders_due()
    assert reminders.send_launch_reminder(reminder_id)
    db.session.rollback()
    assert outbox(app) == []
    assert reminders.reminders_due() == [reminder_id]


def test_concurrent_runs_mail_each_subscriber_once(app, make_user, make_festival):
    festival = make_festival(phase=Phase.launch)
    users = [make_user() for _ in range(12)]
    subscribe(festival, *users)
    due = reminders.reminders_due()

    def run():
        return sum(reminders.send_launch_reminder(reminder_id) for reminder_id in due)

    outcomes = run_together(app, [run, run, run])
    assert all(isinstance(o, int) for o in outcomes) and sum(outcomes) == 12, outcomes
    recipients = Counter(m.split("To: ")[1].split("\n")[0] for m in outbox(app))
    assert recipients == Counter({u.email: 1 for u in users})
