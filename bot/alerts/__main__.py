from bot.alerts.worker import main

main()
