# ruff: noqa: E501  (the MJML below is a realistic template, long lines and all)
"""Benchmark: render a realistic template (200 lines of MJML, 10 variables) for
100,000 customers on one core. Goal: ≥ 5,000 recipients/s, memory flat.

    .venv/bin/python bench/render.py [--customers N]

Needs no database: customers are generated as the plain dicts that
customers.personalisation.customer_context produces.
"""

import argparse
import os
import platform
import sys
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from templates_app.rendering import compile_template, render_compiled  # noqa: E402

HEAD = """<mjml>
  <mj-head>
    <mj-title>{{ customer.attributes.course }} starts soon</mj-title>
    <mj-preview>Hi {{ customer.first_name }}, your intake is close</mj-preview>
    <mj-attributes>
      <mj-all font-family="Helvetica, Arial, sans-serif" />
      <mj-text font-size="15px" line-height="1.6" color="#333333" />
    </mj-attributes>
  </mj-head>
  <mj-body background-color="#f4f5f7">
    <mj-section background-color="#1d3557" padding="24px">
      <mj-column>
        <mj-text color="#ffffff" font-size="22px">Hello {{ customer.first_name | default: "there" }} {{ customer.last_name }}</mj-text>
        <mj-text color="#ffffff">Your {{ customer.attributes.course }} intake opens {{ customer.attributes.intake_date | date: "%d %B %Y" }}.</mj-text>
      </mj-column>
    </mj-section>
    <mj-section background-color="#ffffff">
      <mj-column>
        {% if customer.attributes.scholarship_eligible %}
        <mj-text>Good news: with a score of {{ customer.attributes.application_score }} you qualify for a scholarship.</mj-text>
        {% endif %}
        {% for interest in customer.attributes.interests %}
        <mj-text>Recommended for {{ interest }}</mj-text>
        {% endfor %}
        <mj-text>We will call you on {{ customer.mobile }} or write to {{ customer.email }}.</mj-text>
      </mj-column>
    </mj-section>
"""
BLOCK = """    <mj-section background-color="#ffffff" padding="8px 24px">
      <mj-column width="60%">
        <mj-text font-size="17px" font-weight="bold">Why students choose this programme</mj-text>
        <mj-text>Small cohorts, mentors from industry and a curriculum reviewed every year.</mj-text>
        <mj-text>Live classes in the evening, recordings for the days you cannot attend.</mj-text>
      </mj-column>
      <mj-column width="40%">
        <mj-image src="https://example.com/img/campus.png" alt="Campus" width="200px" />
      </mj-column>
    </mj-section>
    <mj-section background-color="#ffffff" padding="0 24px">
      <mj-column>
        <mj-divider border-color="#e5e7eb" border-width="1px" />
      </mj-column>
    </mj-section>
"""
TAIL = """    <mj-section background-color="#ffffff" padding="24px">
      <mj-column>
        <mj-button background-color="#e63946" href="https://example.com/apply?lead={{ customer.lms_lead_id }}">Finish my application</mj-button>
        <mj-text font-size="12px" color="#6b7280">Not interested? <a href="{{ unsubscribe_url }}">Unsubscribe</a>.</mj-text>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>
"""
MESSAGE = HEAD + BLOCK * 11 + TAIL
SUBJECT = "{{ customer.first_name }}, your {{ customer.attributes.course }} seat is waiting"


def customers(n: int):
    for i in range(n):
        yield {
            "customer": {
                "id": i,
                "lms_lead_id": f"LMS-{i:07d}",
                "first_name": f"Asha{i}",
                "last_name": "Verma <&>",
                "email": f"asha{i}@example.com",
                "mobile": f"+91 90000 {i % 100000:05d}",
                "attributes": {
                    "course": "MBA in Business Analytics",
                    "intake_date": f"2027-{i % 12 + 1:02d}-{i % 28 + 1:02d}",
                    "application_score": 60 + i % 40,
                    "scholarship_eligible": i % 3 == 0,
                    "interests": ["Data science", "Finance"][: i % 3],
                },
            },
            "unsubscribe_url": f"https://mos.example.com/unsubscribe/{i}/",
        }


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    n = parser.parse_args().customers
    template = SimpleNamespace(type="email", subject=SUBJECT, message=MESSAGE)
    print(f"machine: {cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"template: {MESSAGE.count(chr(10))} lines of MJML")
    start = time.perf_counter()
    compiled = compile_template(template.type, template.subject, template.message)
    print(
        f"compile once: {(time.perf_counter() - start) * 1000:.1f} ms; "
        f"variables: {len(compiled.variables)} ({', '.join(compiled.variables)})"
    )
    html_bytes = 0
    start, cpu_start = time.perf_counter(), time.process_time()
    rss_at = {}
    for i, context in enumerate(customers(n), 1):
        message = render_compiled(compiled, context)
        html_bytes += len(message.html) + len(message.text)
        if i in (n // 10, n):
            rss_at[i] = rss_mb()
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    print(
        f"CPU time: {cpu:.1f} s: {n / cpu:,.0f} recipients per CPU-second "
        f"({cpu / n * 1e6:.0f} µs each; wall clock is slower when other processes share the cores)"
    )
    print(
        f"rendered {n:,} recipients in {elapsed:.1f} s: {n / elapsed:,.0f} recipients/s "
        f"({elapsed / n * 1e6:.0f} µs each; avg {html_bytes / n / 1024:.1f} KiB html+text)"
    )
    print("memory (RSS): " + ", ".join(f"{mb:.1f} MB after {i:,}" for i, mb in rss_at.items()))
    print("goal: >= 5,000 recipients/s, memory flat")


if __name__ == "__main__":
    main()
