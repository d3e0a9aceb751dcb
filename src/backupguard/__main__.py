from backupguard.cli import console

console()
