from framework.data_handler.data import Data
from framework.data_handler.fields import String, TYPE_URL_VAR  # filled in: the listing's "..."
from framework.data_handler import validators as v
from framework.data_handler import filters as f
from ..db.models import User as Users  # filled in


class UserCreationData(Data):
    group = String('group', required=True, processors=[v.NotNull()], field_type=TYPE_URL_VAR)
    first_name = String('first_name', processors=[v.Length(max=50)])
    last_name = String('last_name', processors=[v.Length(max=50)])
    email = String('email', processors=[v.EmailAddress()])
    username = String('username', processors=[v.Unique(model=Users)])
    password = String('password', processors=[v.PasswordStrength()])
    password_re = String('password_re')
