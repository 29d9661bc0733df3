"""The team and workspace pages: thin views over the accounts and wallet services. They sit
in the top layer (with studio and api) because a team page shows the pool's money, and
accounts, at the bottom, never imports the wallet."""
