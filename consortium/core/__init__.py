"""The core: what every domain builds on (models, access, audit, sign-in, files, formatting), importing none of them."""
