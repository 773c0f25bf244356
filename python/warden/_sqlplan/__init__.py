"""The translation of a query plan into SQLAlchemy, behind :mod:`warden.sqlalchemy`.

``logic``: CEL booleans as SQL three-valued logic; ``dialect``: the SQL that differs by database;
``values``: CEL values, known and read from the database; ``schema``: attributes to columns and
related tables; ``translate``: the walk of the plan, comparisons, membership and lists;
``text``: string functions and hierarchies; ``arithmetic``: numbers, timestamps, conversions;
``errors``: what an untranslatable plan raises.
"""
