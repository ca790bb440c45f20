"""What every part of the project shares: the recipe catalogue (tfguide/catalogue.toml, read by
tfguide.catalogue) and the environment fingerprint (tfguide.environment).

Imports run one way: reference/ imports nothing of the project but itself; suite/ and benchmarks/
import reference/ and tfguide/; reports/ imports tfguide/ and reads what suite/ and benchmarks/ wrote.
"""
