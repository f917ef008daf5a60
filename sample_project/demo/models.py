from django.db import models
from django.urls import reverse


class Article(models.Model):
    """Each article is a topic: its readers' windows receive what is sent to it."""

    title = models.CharField(max_length=100)
    body = models.TextField(blank=True)
    likes = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("article", args=[self.pk])
