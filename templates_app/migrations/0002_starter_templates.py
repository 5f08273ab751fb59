"""Two starter templates that show personalisation. Marketers may edit or delete them."""

from django.db import migrations

INTAKE_REMINDER = """<mjml>
  <mj-head>
    <mj-title>Your {{ customer.attributes.course | default: "course" }} intake is coming up</mj-title>
    <mj-preview>{{ customer.first_name | default: "Hi" }}, seats for the next intake are filling up.</mj-preview>
    <mj-attributes>
      <mj-all font-family="Helvetica, Arial, sans-serif" />
      <mj-text font-size="16px" line-height="1.6" color="#1f2937" />
      <mj-button background-color="#e63946" color="#ffffff" font-size="16px" font-weight="bold" border-radius="6px" inner-padding="14px 28px" />
    </mj-attributes>
  </mj-head>
  <mj-body background-color="#f3f4f6">
    <mj-section padding="24px 0 8px">
      <mj-column>
        <mj-text align="center" font-size="14px" color="#6b7280" letter-spacing="2px">YOUR NEXT CAMPUS</mj-text>
      </mj-column>
    </mj-section>
    <mj-section background-color="#1d3557" border-radius="10px 10px 0 0" padding="36px 24px 28px">
      <mj-column>
        <mj-text align="center" color="#ffffff" font-size="28px" font-weight="bold" line-height="1.3">
          {{ customer.first_name | default: "Hello" }}, your intake starts soon
        </mj-text>
        <mj-text align="center" color="#dbe4f0" font-size="17px">
          {{ customer.attributes.course | default: "Your programme" }}
          {% if customer.attributes.intake_date %}· begins {{ customer.attributes.intake_date | date: "%d %B %Y" }}{% endif %}
        </mj-text>
      </mj-column>
    </mj-section>
    <mj-section background-color="#ffffff" padding="28px 24px 8px">
      <mj-column>
        <mj-text>Hi {{ customer.first_name | default: "there" }},</mj-text>
        <mj-text>
          Thank you for your interest in <strong>{{ customer.attributes.course | default: "our programmes" }}</strong>.
          Seats for the next intake are limited, and we would love to keep one for you.
        </mj-text>
        {% if customer.attributes.scholarship_eligible %}
        <mj-text container-background-color="#ecfdf5" color="#065f46" padding="16px 25px">
          <strong>Good news:</strong> your profile qualifies you for a merit scholarship. Apply before the intake closes to claim it.
        </mj-text>
        {% endif %}
      </mj-column>
    </mj-section>
    <mj-section background-color="#ffffff" padding="0 24px">
      <mj-column width="33%">
        <mj-text align="center" font-size="24px" font-weight="bold" color="#1d3557">1</mj-text>
        <mj-text align="center" font-size="14px" padding-top="0">Finish your application online</mj-text>
      </mj-column>
      <mj-column width="33%">
        <mj-text align="center" font-size="24px" font-weight="bold" color="#1d3557">2</mj-text>
        <mj-text align="center" font-size="14px" padding-top="0">Upload your documents</mj-text>
      </mj-column>
      <mj-column width="33%">
        <mj-text align="center" font-size="24px" font-weight="bold" color="#1d3557">3</mj-text>
        <mj-text align="center" font-size="14px" padding-top="0">Confirm your seat</mj-text>
      </mj-column>
    </mj-section>
    <mj-section background-color="#ffffff" border-radius="0 0 10px 10px" padding="16px 24px 36px">
      <mj-column>
        <mj-button href="https://example.com/apply?lead={{ customer.lms_lead_id | url_encode }}">Reserve my seat</mj-button>
        <mj-text align="center" font-size="14px" color="#6b7280">
          Questions? Reply to this email or call us; we will ring you back on {{ customer.mobile | default: "your number" }}.
        </mj-text>
      </mj-column>
    </mj-section>
    <mj-section padding="16px 24px">
      <mj-column>
        <mj-text align="center" font-size="12px" color="#9ca3af">
          You receive this because you asked about a course at Your Next Campus.
          <a href="{{ unsubscribe_url }}" style="color:#6b7280">Unsubscribe</a>
        </mj-text>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>
"""

STATUS_NUDGE = """<mjml>
  <mj-head>
    <mj-title>Your application: {{ customer.attributes.application_status | default: "next steps" }}</mj-title>
    <mj-preview>One step left on your {{ customer.attributes.course | default: "application" }}</mj-preview>
    <mj-attributes>
      <mj-all font-family="Helvetica, Arial, sans-serif" />
      <mj-text font-size="16px" line-height="1.6" color="#111827" />
    </mj-attributes>
  </mj-head>
  <mj-body background-color="#eef2f7">
    <mj-section padding="28px 0 0">
      <mj-column>
        <mj-text align="left" font-size="14px" font-weight="bold" color="#2a9d8f" letter-spacing="1px">APPLICATION UPDATE</mj-text>
      </mj-column>
    </mj-section>
    <mj-section background-color="#ffffff" border-radius="10px" padding="32px 28px">
      <mj-column>
        <mj-text font-size="24px" font-weight="bold" line-height="1.3">
          {{ customer.first_name | default: "Hello" }}, you are almost there
        </mj-text>
        <mj-text>
          Your application for <strong>{{ customer.attributes.course | default: "your programme" }}</strong>
          is currently marked as:
        </mj-text>
        <mj-text align="center" font-size="18px" font-weight="bold" color="#b45309" container-background-color="#fffbeb" padding="14px 25px">
          {{ customer.attributes.application_status | default: "in progress" | capitalize }}
        </mj-text>
        {% if customer.attributes.application_status == "documents pending" %}
        <mj-text>We are missing a few documents. Upload them now and our admissions team will review your file within two working days.</mj-text>
        {% else %}
        <mj-text>Log in to see what is left to do; it takes most students less than ten minutes.</mj-text>
        {% endif %}
        {% if customer.attributes.interests.size > 0 %}
        <mj-text font-size="14px" color="#4b5563">
          You told us you are interested in {{ customer.attributes.interests | join: ", " }}: we will match your electives to that.
        </mj-text>
        {% endif %}
        <mj-button href="https://example.com/application?lead={{ customer.lms_lead_id | url_encode }}" background-color="#2a9d8f" color="#ffffff" font-size="16px" font-weight="bold" border-radius="6px" inner-padding="14px 28px" align="left">
          Continue my application
        </mj-button>
        <mj-divider border-color="#e5e7eb" border-width="1px" padding="24px 25px 8px" />
        <mj-text font-size="14px" color="#4b5563">
          Need help? Our counsellors are available Monday to Saturday. Write to admissions@example.com and mention {{ customer.lms_lead_id }}.
        </mj-text>
      </mj-column>
    </mj-section>
    <mj-section padding="16px 24px">
      <mj-column>
        <mj-text align="center" font-size="12px" color="#9ca3af">
          Your Next Campus · <a href="{{ unsubscribe_url }}" style="color:#6b7280">Unsubscribe</a>
        </mj-text>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>
"""

STARTERS = [
    {
        "name": "Starter: course intake reminder",
        "subject": "{{ customer.first_name | default: 'Hi' }}, your {{ customer.attributes.course | default: 'course' }} intake starts soon",
        "message": INTAKE_REMINDER,
    },
    {
        "name": "Starter: application status nudge",
        "subject": "{{ customer.first_name | default: 'Hi' }}, one step left on your application",
        "message": STATUS_NUDGE,
    },
]


def create_starters(apps, schema_editor):
    MessageTemplate = apps.get_model("templates_app", "MessageTemplate")
    for starter in STARTERS:
        MessageTemplate.objects.get_or_create(
            name=starter["name"],
            defaults={"type": "email", "templating_type": "mjml", **starter},
        )


def remove_starters(apps, schema_editor):
    MessageTemplate = apps.get_model("templates_app", "MessageTemplate")
    MessageTemplate.objects.filter(name__in=[s["name"] for s in STARTERS]).delete()


class Migration(migrations.Migration):
    dependencies = [("templates_app", "0001_initial")]
    operations = [migrations.RunPython(create_starters, remove_starters)]
