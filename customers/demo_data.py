"""Believable customers of an Indian education company, for demos and benchmarks.

Plain Python (no Django imports), so `bench/` can reuse the vocabulary. Every
customer is drawn from its own seeded generator: customer 123 comes out the
same whatever the total, so a bigger second run extends the first one.
"""

import random
from datetime import datetime, timedelta

LEAD_ID_PREFIX = "LMS-2026-"
HISTORY_DAYS = 270  # customers arrive over the past nine months

FIRST_NAMES = (
    "Aarav Aditi Aditya Akash Amit Ananya Anjali Ankit Arjun Aryan Ayesha Deepak Divya "
    "Farhan Gaurav Harsh Ishaan Isha Karan Kavya Kiran Krishna Lakshmi Manish Meera "
    "Mohammed Neha Nikhil Nisha Pooja Pranav Priya Rahul Rajesh Riya Rohan Sahil Sakshi "
    "Sandeep Sanjay Sara Shreya Simran Sneha Sonal Suresh Tanvi Varun Vikram Vivek "
    "Yash Zoya Abhishek Bhavna Chetan Fatima Gayatri Harpreet Jaspreet Lavanya Naveen "
    "Parth Rekha Sameer Tanya Uday Vandana Vedant Zainab Anirudh Keerthi Madhav"
).split()
LAST_NAMES = (
    "Sharma Verma Gupta Singh Kumar Patel Shah Mehta Iyer Nair Reddy Rao Menon Pillai "
    "Joshi Kulkarni Deshpande Patil Chatterjee Banerjee Mukherjee Das Bose Sen Ghosh "
    "Khan Ahmed Siddiqui Qureshi Ansari Gill Sandhu Kaur Malhotra Kapoor Chopra Agarwal "
    "Bansal Jain Saxena Srivastava Tiwari Mishra Pandey Dubey Yadav Chauhan Rathore "
    "Naidu Hegde Shetty Kamath Bhat Fernandes D'Souza Pereira Thomas George Varghese"
).split()
# Weights follow where such companies find most of their leads.
CITIES = {
    "Bengaluru": 14, "Mumbai": 12, "Delhi": 12, "Pune": 9, "Hyderabad": 9, "Chennai": 8,
    "Kolkata": 6, "Ahmedabad": 5, "Jaipur": 4, "Lucknow": 4, "Noida": 4, "Gurugram": 4,
    "Kochi": 3, "Indore": 3, "Chandigarh": 3, "Nagpur": 2, "Bhopal": 2, "Patna": 2,
    "Coimbatore": 2, "Visakhapatnam": 2,
}  # fmt: skip
COURSES = {
    "MBA": 20, "Executive MBA": 8, "Data Science PG Diploma": 16, "MSc Data Science": 6,
    "PG Certificate in Digital Marketing": 10, "BBA": 8, "BCA": 7, "MCA": 7,
    "PG Diploma in Product Management": 6, "Full Stack Development Bootcamp": 9,
    "Cloud Computing Certificate": 5, "Doctorate in Business Administration": 2,
}  # fmt: skip
INTERESTS = (
    "analytics machine-learning finance marketing leadership entrepreneurship "
    "product-management cloud python ai operations hr consulting design"
).split()
SOURCES = {"Google Ads": 30, "Instagram": 20, "Referral": 15, "Webinar": 12, "Walk-in": 8,
           "YouTube": 10, "Education fair": 5}  # fmt: skip
EMAIL_DOMAINS = {"gmail.com": 70, "yahoo.co.in": 10, "outlook.com": 8, "rediffmail.com": 4,
                 "hotmail.com": 4, "icloud.com": 4}  # fmt: skip


APPLICATION_STATUSES = ("submitted", "documents pending", "under review", "offer made")


def pick(rng: random.Random, weighted: dict[str, int]) -> str:
    return rng.choices(list(weighted), weights=list(weighted.values()))[0]


def customer_rng(seed: int, serial: int) -> random.Random:
    """The generator for one customer: independent of how many are made."""
    return random.Random(seed * 10_000_019 + serial)


def lead_id(serial: int) -> str:
    return f"{LEAD_ID_PREFIX}{serial:06d}"


def mobile_number(rng: random.Random) -> str:
    digits = f"{rng.choice('6789')}{rng.randrange(10**9):09d}"
    return f"+91 {digits[:5]} {digits[5:]}"


def email_address(rng: random.Random, first: str, last: str) -> str:
    local = f"{first}.{last}".lower().replace("'", "")
    if rng.random() < 0.6:
        local += str(rng.randrange(1, 999))
    return f"{local}@{pick(rng, EMAIL_DOMAINS)}"


def demo_customer(rng: random.Random, serial: int, *, now: datetime) -> tuple[dict, datetime]:
    """An `ingest_customers` item with typed attributes, and when the lead came in.

    The ingest stamps `created_date` with `now`; the arrival time is returned
    separately so the customer's funnel events can start from it.
    """
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    arrived = now - timedelta(days=rng.uniform(1, HISTORY_DAYS))
    item = {"lms_lead_id": lead_id(serial), "first_name": first, "last_name": last}
    if rng.random() > 0.03:  # some leads come in by phone only
        item["email"] = email_address(rng, first, last)
    if rng.random() > 0.05:
        item["mobile"] = mobile_number(rng)
    item["attributes"] = demo_attributes(rng, arrived=arrived, now=now)
    return item, arrived


def demo_attributes(rng: random.Random, *, arrived: datetime, now: datetime) -> list[dict]:
    """One attribute of every type, some only for part of the customers."""
    values = {
        "course": ("string", pick(rng, COURSES)),
        "city": ("string", pick(rng, CITIES)),
        "lead_source": ("string", pick(rng, SOURCES)),
        "intake_year": ("numeric", rng.choice((2026, 2026, 2027, 2027, 2028))),
        "scholarship": ("boolean", rng.random() < 0.3),
        "interests": ("array", sorted(rng.sample(INTERESTS, rng.randint(1, 4)))),
        "last_login": ("timestamp", _iso(arrived + (now - arrived) * rng.random())),
    }
    if rng.random() < 0.7:
        values["budget"] = ("numeric", rng.randrange(50_000, 2_500_000, 5_000))
    if rng.random() < 0.5:
        values["class12_percentage"] = ("numeric", round(rng.uniform(55, 99), 1))
    if rng.random() < 0.4:
        applied = arrived + (now - arrived) * rng.uniform(0.2, 1)
        values["application_date"] = ("date", applied.date().isoformat())
        # The starter "application status nudge" template reads this one.
        values["application_status"] = ("string", rng.choice(APPLICATION_STATUSES))
    return [
        {"field_name": name, "field_type": kind, "field_value": value}
        for name, (kind, value) in values.items()
    ]


def _iso(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat()
