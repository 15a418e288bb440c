"Layer 4, administration: the app store, training runs, analytics, review, the studio and the dashboards server."
