from marketplace.accounts.models import new_token_public_id


def test_token_ids_can_be_typed_as_a_command_argument():
    # `flask revoke-token ID`: an id beginning with '-' would be read as an option.
    ids = {new_token_public_id() for _ in range(2000)}
    assert len(ids) == 2000
    assert not any(token_id.startswith("-") for token_id in ids)
