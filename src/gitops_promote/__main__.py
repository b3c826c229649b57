from gitops_promote.cli import main

if __name__ == "__main__":
    main()
