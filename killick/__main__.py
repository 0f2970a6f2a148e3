from killick.cli import main

main()
