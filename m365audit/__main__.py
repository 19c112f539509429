from m365audit.cli.app import main

main()
