from django.contrib import admin

from .models import Event, Question, Registration


class QuestionInline(admin.TabularInline):
    model = Question
    extra = 0


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ("title", "site", "start", "status", "audience", "capacity")
    list_filter = ("status", "audience", "site")
    search_fields = ("title",)
    date_hierarchy = "start"
    inlines = [QuestionInline]
    # Times, rooms, capacity and status change through the team's pages (services): they book, move and
    # release the rooms, offer freed places and tell the registrants. The admin corrects texts only.
    readonly_fields = ("site", "start", "end", "capacity", "status", "outside_address")
    exclude = ("rooms",)

    def has_add_permission(self, request):
        return False  # created from the team's page, which books the rooms through the engine


@admin.register(Registration)
class RegistrationAdmin(admin.ModelAdmin):
    list_display = ("name", "email", "event", "status", "created_at", "checked_in_at")
    list_filter = ("status",)
    search_fields = ("name", "email", "event__title")
    raw_id_fields = ("event", "member", "checked_in_by")
    readonly_fields = [f.name for f in Registration._meta.fields if f.name not in ("name",)]

    def has_add_permission(self, request):
        return False  # registrations go through the services (capacity, waiting list)
