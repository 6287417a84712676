from newsbot.cli.app import main

main()
