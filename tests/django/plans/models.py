"""Rows for the differential tests: a column of each supported type, nullable and not, and a
nullable foreign key (``team.name`` reads across it)."""

from django.db import models


class Team(models.Model):
    name = models.CharField(max_length=50, null=True)


class Item(models.Model):
    name = models.CharField(max_length=50, null=True)
    owner = models.CharField(max_length=50, null=True)
    status = models.CharField(max_length=50, null=True)
    title = models.TextField(default="")
    score = models.IntegerField(null=True)
    ratio = models.FloatField(null=True)
    active = models.BooleanField(null=True)
    flag = models.BooleanField(default=False)
    team = models.ForeignKey(Team, null=True, on_delete=models.SET_NULL)


class Record(models.Model):
    """The AuthZEN certification fixture's resources (record-1 active, record-2 archived)."""

    id = models.CharField(primary_key=True, max_length=50)
    status = models.CharField(max_length=50)
