from license_svc.cli import main

main()
