from django.db import migrations

ARTICLES = [
    ("Topics in dfws", "A topic is a set of windows: this article is one."),
    ("Celery queues", "Each handler is a named task on the queue it declares."),
]


def create(apps, schema_editor):
    Article = apps.get_model("demo", "Article")
    for title, body in ARTICLES:
        Article.objects.get_or_create(title=title, defaults={"body": body})


class Migration(migrations.Migration):
    dependencies = [("demo", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
