from qa_review.cli import main

main()
