from backupguard.cli import main

main()
