from django.contrib import admin

from automations.models import Automation


@admin.register(Automation)
class AutomationAdmin(admin.ModelAdmin):
    list_display = ["name", "customer_segment", "message_template", "cron", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name"]
    raw_id_fields = ["customer_segment", "message_template", "created_by"]
