"""The translation of a query plan into SQLAlchemy, behind :mod:`warden.sqlalchemy`.

``logic``: CEL booleans as SQL three-valued logic; ``dialect``: the SQL that differs by database;
``values``: CEL values, known and read from the database; ``schema``: attributes to columns and
related tables; ``translate``: the plan's operators.
"""
